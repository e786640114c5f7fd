//! Remembered devices: telling the owner's device from a stranger's by the device
//! token it presents, handing out a token at every sign-in, and telling the owner when
//! the account signs in from a device it has not used before. A small value the
//! sign-in and OAuth services hold.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::StartError;
use super::throttle::client_network;
use crate::crypto::{DeviceToken, KeyedHasher};
use crate::domain::{ClientContext, Device, DeviceId, EmailAddress, MailKind, MailMessage, User};
use crate::error::Failure;
use crate::ports::{ClientStanding, DeviceRecorded, DeviceRepository, DeviceSignIn, Mailer, UserRepository};

/// A keyed pseudonym of the client's network and user agent.
pub fn client_fingerprint(hasher: &KeyedHasher, client: &ClientContext) -> String {
    let network = client.ip.map(client_network).unwrap_or_default();
    hasher.client_fingerprint(&network, client.user_agent.as_deref())
}

/// Recognises and remembers devices.
#[derive(Debug, Clone)]
pub struct RememberedDevices {
    devices: Arc<dyn DeviceRepository>,
    hasher: KeyedHasher,
    code_check_lifetime: Duration,
    notices: Arc<dyn Mailer>,
    limit: usize,
}

/// What [`RememberedDevices::code_checked_recently`] found.
#[derive(Debug)]
pub struct CodeCheck {
    /// Whether the client passed a code check recently enough.
    pub passed: bool,
    /// The client's standing among the account's devices, when telling needed it (a
    /// client without a device token): hand it on ([`super::OnDevice::standing`], or
    /// [`RememberedDevices::remember`]), which needs the same answer, instead of reading
    /// it twice.
    pub standing: Option<ClientStanding>,
}

impl RememberedDevices {
    /// Devices stored in `devices`, their tokens hashed with `hasher`; a code check on
    /// a device counts for `code_check_lifetime` (the access-token lifetime); new-sign-in
    /// notices go through `notices`; an account keeps at most `limit` active devices
    /// (at least one).
    pub fn new(
        devices: Arc<dyn DeviceRepository>,
        hasher: KeyedHasher,
        code_check_lifetime: Duration,
        notices: Arc<dyn Mailer>,
        limit: usize,
    ) -> Self {
        Self { devices, hasher, code_check_lifetime, notices, limit }
    }

    /// The active device of `user` whose token the client presented, if any.
    ///
    /// # Errors
    /// A store failure.
    pub async fn recognise(
        &self,
        client: &ClientContext,
        user: Option<&User>,
    ) -> Result<Option<Device>, Failure> {
        let (Some(user), Some(presented)) = (user, client.device_token.as_ref()) else {
            return Ok(None);
        };
        let Some(token) = DeviceToken::parse(presented.expose()) else {
            return Ok(None);
        };
        let device = self.devices.find(token.device_id()).await?;
        Ok(device.filter(|device| {
            device.is_active()
                && device.user_id == user.id
                && device.token_hash.ct_eq(&token.hash(&self.hasher))
        }))
    }

    /// The account with address `email` in `users` and, for a client that sends no
    /// device token, the client's standing among the account's devices at `now`, read
    /// together where the store can ([`UserRepository::find_by_email_with_standing`]);
    /// elsewhere the account alone, and no standing (read later, when needed).
    ///
    /// # Errors
    /// A store failure.
    pub async fn account_and_standing(
        &self,
        users: &dyn UserRepository,
        email: &EmailAddress,
        client: &ClientContext,
        now: OffsetDateTime,
    ) -> Result<(Option<User>, Option<ClientStanding>), Failure> {
        if client.device_token.is_none() {
            let fingerprint = client_fingerprint(&self.hasher, client);
            let since = self.checks_count_since(now);
            if let Some(found) = users.find_by_email_with_standing(email, &fingerprint, since).await? {
                let standing = found.user.is_some().then_some(found.standing);
                return Ok((found.user, standing));
            }
        }
        Ok((users.find_by_email(email).await?, None))
    }

    /// Whether the client passed a code check for `user` within the code-check
    /// lifetime: on its recognised device, or, for a client that sends no device token
    /// at all, on a device remembered with the same network and user agent. `read` is
    /// that client's standing when the caller has read it already
    /// ([`RememberedDevices::account_and_standing`]; as of the instant it was read).
    ///
    /// # Errors
    /// A store failure.
    pub async fn code_checked_recently(
        &self,
        client: &ClientContext,
        user: &User,
        recognised: Option<&Device>,
        now: OffsetDateTime,
        read: Option<ClientStanding>,
    ) -> Result<CodeCheck, Failure> {
        if let Some(device) = recognised {
            return Ok(CodeCheck { passed: self.code_check_counts(device, now), standing: None });
        }
        if client.device_token.is_some() {
            return Ok(CodeCheck { passed: false, standing: None });
        }
        let standing = match read {
            Some(standing) => standing,
            None => {
                let fingerprint = client_fingerprint(&self.hasher, client);
                self.devices.client_standing(user.id, &fingerprint, self.checks_count_since(now)).await?
            }
        };
        Ok(CodeCheck { passed: standing.code_checked, standing: Some(standing) })
    }

    /// Records a sign-in of `user` at `now` and returns the device token to answer
    /// with: the recognised device's own token, or a new device's. A new device of an
    /// account that already has others, none of them with this client's network and
    /// user agent, gets the owner a new-sign-in notice (a notice that cannot be sent is
    /// logged; the sign-in goes on). A new device that takes the account past its
    /// limit forgets the least recently used ones in the same change, sparing those
    /// whose code check still counts while others can go
    /// ([`DeviceRepository::create_within_limit`]). `standing` is the client's
    /// standing when the caller has just read it ([`CodeCheck::standing`]), saving a
    /// second read.
    ///
    /// A sign-in that also opens a session records both in one change instead, where
    /// the store can ([`super::SessionIssuer::start_on_device`]).
    ///
    /// # Errors
    /// [`StartError::AccountGone`] when the account was deleted meanwhile; a store
    /// failure.
    pub async fn remember(
        &self,
        user: &User,
        client: &ClientContext,
        recognised: Option<&Device>,
        now: OffsetDateTime,
        code_checked: bool,
        standing: Option<ClientStanding>,
    ) -> Result<String, StartError> {
        let plan = self.plan(user, client, recognised, now, code_checked, standing).await?;
        let recorded = self.write(&plan, now, code_checked).await?;
        self.finish(user, client, plan, recorded, now, code_checked).await
    }

    /// Decides how the sign-in's device is recorded: on the device the client
    /// recognisably presented, else as a new device (reading the client's standing
    /// unless given, to know whether the owner is told).
    pub(crate) async fn plan(
        &self,
        user: &User,
        client: &ClientContext,
        recognised: Option<&Device>,
        now: OffsetDateTime,
        code_checked: bool,
        standing: Option<ClientStanding>,
    ) -> Result<DevicePlan, Failure> {
        if let (Some(device), Some(presented)) = (recognised, client.device_token.as_ref()) {
            return Ok(DevicePlan::Known { id: device.id, token: presented.expose().to_owned() });
        }
        Ok(DevicePlan::New(self.plan_new(user, client, now, code_checked, standing).await?))
    }

    async fn plan_new(
        &self,
        user: &User,
        client: &ClientContext,
        now: OffsetDateTime,
        code_checked: bool,
        standing: Option<ClientStanding>,
    ) -> Result<PlannedDevice, Failure> {
        let new = self.new_device(user, client, now, code_checked);
        let standing = match standing {
            Some(standing) => standing,
            None => {
                self.devices
                    .client_standing(user.id, &new.device.client, self.checks_count_since(now))
                    .await?
            }
        };
        Ok(PlannedDevice { new, new_place: standing.has_devices && !standing.known })
    }

    /// The change `plan` asks of the store.
    pub(crate) fn sign_in<'a>(
        &self,
        plan: &'a DevicePlan,
        now: OffsetDateTime,
        code_checked: bool,
    ) -> DeviceSignIn<'a> {
        match plan {
            DevicePlan::Known { id, .. } => DeviceSignIn::Known { id: *id, code_checked },
            DevicePlan::New(planned) => DeviceSignIn::New {
                device: &planned.new.device,
                limit: self.limit,
                checks_count_since: self.checks_count_since(now),
            },
        }
    }

    /// Writes `plan`'s change through the device store alone.
    pub(crate) async fn write(
        &self,
        plan: &DevicePlan,
        now: OffsetDateTime,
        code_checked: bool,
    ) -> Result<DeviceRecorded, StartError> {
        Ok(match self.sign_in(plan, now, code_checked) {
            DeviceSignIn::Known { id, code_checked } => {
                DeviceRecorded::Known(self.devices.record_sign_in(id, now, code_checked).await?)
            }
            DeviceSignIn::New { device, limit, checks_count_since } => DeviceRecorded::New(
                self.devices.create_within_limit(device, limit, checks_count_since).await?,
            ),
        })
    }

    /// The device token to answer with once `plan`'s change is `recorded`: logs the
    /// devices a new one pushed out and tells the owner of a new place. A recognised
    /// device forgotten meanwhile gives way to a new device, remembered on its own.
    pub(crate) async fn finish(
        &self,
        user: &User,
        client: &ClientContext,
        plan: DevicePlan,
        recorded: DeviceRecorded,
        now: OffsetDateTime,
        code_checked: bool,
    ) -> Result<String, StartError> {
        match (plan, recorded) {
            (DevicePlan::Known { token, .. }, DeviceRecorded::Known(true)) => Ok(token),
            (DevicePlan::New(planned), DeviceRecorded::New(forgotten)) => {
                Ok(self.remembered(user, client, planned, forgotten).await)
            }
            (DevicePlan::Known { .. }, DeviceRecorded::Known(false)) => {
                let planned = self.plan_new(user, client, now, code_checked, None).await?;
                let forgotten = self
                    .devices
                    .create_within_limit(&planned.new.device, self.limit, self.checks_count_since(now))
                    .await?;
                Ok(self.remembered(user, client, planned, forgotten).await)
            }
            (_, recorded) => Err(StartError::Failure(Failure::internal(format!(
                "the store answered {recorded:?} for another kind of device change"
            )))),
        }
    }

    /// Logs a new device and those it pushed out, tells the owner of a new place, and
    /// hands out the new device's token.
    async fn remembered(
        &self,
        user: &User,
        client: &ClientContext,
        planned: PlannedDevice,
        forgotten: Vec<DeviceId>,
    ) -> String {
        let PlannedDevice { new: NewDevice { device, token }, new_place } = planned;
        tracing::info!(user_id = %user.id, device_id = %device.id, "device remembered");
        for forgotten in forgotten {
            tracing::info!(
                user_id = %user.id, device_id = %forgotten, "device forgotten: the account is at its device limit"
            );
        }
        if new_place {
            let kind = MailKind::NewSignIn { device: describe(client) };
            let message = MailMessage::new(user.email.clone(), kind).in_language_of(Some(user), client);
            if let Err(error) = self.notices.send(&message).await {
                tracing::warn!(user_id = %user.id, error = %error, "new-sign-in notice not sent");
            }
        }
        token.expose()
    }

    /// Whether a code check on `device` still counts at `now`.
    fn code_check_counts(&self, device: &Device, now: OffsetDateTime) -> bool {
        device.code_checked_since(self.checks_count_since(now))
    }

    /// The earliest code check that still counts at `now`.
    fn checks_count_since(&self, now: OffsetDateTime) -> OffsetDateTime {
        now - self.code_check_lifetime
    }

    /// Builds, without storing it, a new device of `user` for this client at `now`
    /// (its code checked then if `code_checked`), and its token. Used as is for the
    /// first device of a new account: with no other device to compare with, there is
    /// nothing to list and no new-sign-in notice to send. The caller stores
    /// [`NewDevice::device`] and answers with [`NewDevice::token`].
    pub fn new_device(
        &self,
        user: &User,
        client: &ClientContext,
        now: OffsetDateTime,
        code_checked: bool,
    ) -> NewDevice {
        let token = DeviceToken::generate();
        let device = Device {
            id: token.device_id(),
            user_id: user.id,
            token_hash: token.hash(&self.hasher),
            client: client_fingerprint(&self.hasher, client),
            created_at: now,
            last_used_at: now,
            code_verified_at: code_checked.then_some(now),
            revoked_at: None,
            ip: client.ip,
            user_agent: client.user_agent.clone(),
        };
        NewDevice { device, token }
    }
}

/// How a sign-in's device is to be recorded ([`RememberedDevices::plan`]).
#[derive(Debug)]
pub(crate) enum DevicePlan {
    /// The device the client presented, and the token it presented.
    Known {
        /// The recognised device.
        id: DeviceId,
        /// Its token, answered again.
        token: String,
    },
    /// A new device.
    New(PlannedDevice),
}

/// A new device to store, and whether its owner is told of a sign-in from a new place.
#[derive(Debug)]
pub(crate) struct PlannedDevice {
    new: NewDevice,
    new_place: bool,
}

/// A device built and not yet stored, with the token the client gets once it is.
#[derive(Debug)]
pub struct NewDevice {
    /// The device to store.
    pub device: Device,
    token: DeviceToken,
}

impl NewDevice {
    /// The device token to answer with.
    pub fn token(&self) -> String {
        self.token.expose()
    }
}

/// The client as a person would recognise it: its user agent (shortened) and its
/// network.
fn describe(client: &ClientContext) -> String {
    let agent: String =
        client.user_agent.as_deref().unwrap_or("an unknown browser or app").chars().take(120).collect();
    match client.ip.map(client_network) {
        Some(network) => format!("{agent}, from {network}"),
        None => agent,
    }
}
