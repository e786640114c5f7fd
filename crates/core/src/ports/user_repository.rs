use async_trait::async_trait;
use time::OffsetDateTime;

use crate::crypto::TokenHash;
use crate::domain::{
    Device, EmailAddress, Locale, PasswordHash, RegistrationBinding, Role, Session, User, UserId,
};
use crate::error::PortError;
use crate::ports::ClientStanding;

/// Which accounts [`UserRepository::list`] returns: a page of at most `limit`
/// accounts, in descending order of id (UUIDv7, so the newest accounts first),
/// starting after the cursor `before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListQuery {
    /// Only accounts whose (normalised) address contains this text, compared
    /// case-insensitively and literally (`%`, `_` and `\` are plain characters).
    /// `None` lists every account.
    pub email_contains: Option<String>,
    /// Only accounts whose id sorts strictly below this one: the last id of the
    /// previous page.
    pub before: Option<UserId>,
    /// The most accounts to return.
    pub limit: usize,
}

/// What [`UserRepository::find_by_email_with_standing`] read: the account, and a
/// client's standing among its active devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStanding {
    /// The account with the address, if any.
    pub user: Option<User>,
    /// The client's standing among the account's active devices (the default, no
    /// device at all, when there is no account).
    pub standing: ClientStanding,
}

/// Durable storage of accounts.
///
/// Addresses are stored normalised (see [`EmailAddress`]) and are unique: two accounts
/// never share one, whatever the interleaving of concurrent calls.
#[async_trait]
pub trait UserRepository: Send + Sync + std::fmt::Debug {
    /// Stores a new account exactly as given.
    ///
    /// # Errors
    /// MUST return [`PortError::EmailTaken`] when an account with the same address
    /// exists, including when another `create` for that address wins a race;
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn create(&self, user: &User) -> Result<(), PortError>;

    /// Stores a new account (exactly as given, as [`UserRepository::create`]) together
    /// with its first session and its first remembered device, as one atomic step: all
    /// three are stored or none is. `session.user_id` and `device.user_id` MUST be
    /// `user.id` (the caller's promise; an adapter may refuse other rows with
    /// [`PortError::Failed`], storing nothing).
    ///
    /// After success, the account is found by [`UserRepository::find_by_id`] and
    /// [`UserRepository::find_by_email`], the session by
    /// [`crate::ports::SessionRepository::find`] and the device by
    /// [`crate::ports::DeviceRepository::find`], on the session and device storage of
    /// the same deployment (the stores the services are given beside this one).
    ///
    /// It lives on this port, not on a port of its own, because the account decides
    /// the outcome (its unique address) and this port already reaches the account's
    /// sessions (see [`UserRepository::reset_password`]); a first sign-in through it
    /// is one commit instead of three.
    ///
    /// # Errors
    /// MUST return [`PortError::EmailTaken`], storing none of the three, when an
    /// account with the same address exists, including when a concurrent `create`,
    /// `change_email` or call of this method for that address wins a race;
    /// [`PortError::Unavailable`] when storage cannot be reached (then nothing is
    /// stored).
    async fn create_with_first_sign_in(
        &self,
        user: &User,
        session: &Session,
        device: &Device,
    ) -> Result<(), PortError>;

    /// The account with this identifier, if any.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError>;

    /// The account with this (normalised) address, if any.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, PortError>;

    /// The account with this address, as [`UserRepository::find_by_email`] finds it,
    /// and the standing among its active devices of the client whose fingerprint is
    /// `client`, as [`crate::ports::DeviceRepository::client_standing`] answers it on
    /// the device storage of the same deployment (code checks counting from
    /// `checks_count_since`), read together: one round trip for a log-in from a client
    /// that keeps no device token, where there were two.
    ///
    /// A store that cannot read both at once answers `Ok(None)` (the default); the
    /// caller then reads them apart.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn find_by_email_with_standing(
        &self,
        email: &EmailAddress,
        client: &str,
        checks_count_since: OffsetDateTime,
    ) -> Result<Option<AccountStanding>, PortError> {
        let _ = (email, client, checks_count_since);
        Ok(None)
    }

    /// Replaces the password hash (or removes it, with `None`), removes any
    /// registration binding, and sets `updated_at` to `now`. Returns `false` when no
    /// account has this identifier.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn set_password(
        &self,
        id: UserId,
        hash: Option<&PasswordHash>,
        now: OffsetDateTime,
    ) -> Result<bool, PortError>;

    /// Sets the pending password `hash` of an account whose address is NOT verified,
    /// together with who registered it (`binding`), and `updated_at` to `now`. MUST
    /// change nothing and return `false` when the account is verified (or unknown), in
    /// one atomic step, so a registration can never set a verified account's password.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn register_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        binding: &RegistrationBinding,
        now: OffsetDateTime,
    ) -> Result<bool, PortError>;

    /// Drops the pending password and registration binding of an account whose
    /// address is NOT verified, and sets `updated_at` to `now`. MUST change nothing and
    /// return `false` for a verified (or unknown) account, in one atomic step.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn abandon_registration(&self, id: UserId, now: OffsetDateTime) -> Result<bool, PortError>;

    /// Records a sign-in by code at `now`, in one atomic step: if the address was not
    /// verified, its pending password is kept only when the stored registration
    /// binding's token hash equals `registrant` (and dropped otherwise, including when
    /// `registrant` is `None`); then, as [`UserRepository::record_code_verified`], sets
    /// `last_code_verified_at` and, if unset, `email_verified_at` to `now`. The binding
    /// is always removed. A verified account's password is never touched. Returns the
    /// updated account, or `None` when no account has this id.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn record_code_sign_in(
        &self,
        id: UserId,
        now: OffsetDateTime,
        registrant: Option<&TokenHash>,
    ) -> Result<Option<User>, PortError>;

    /// Records that a code sent to the account's address was entered correctly at
    /// `now`: sets `last_code_verified_at` to `now`, sets `email_verified_at` to `now`
    /// if it was unset (an earlier verification time is kept), and `updated_at` to
    /// `now`. Returns the updated account, or `None` when no account has this id.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn record_code_verified(&self, id: UserId, now: OffsetDateTime) -> Result<Option<User>, PortError>;

    /// Completes a password reset as one atomic step: sets the password hash to `hash`,
    /// records a code check at `now` (as [`UserRepository::record_code_verified`]), and
    /// revokes at `now` every session of the account that is active at `now`, in the
    /// session storage of the same deployment. Either all of it is stored or none of
    /// it. Returns how many sessions were ended, or `None` when no account has this
    /// identifier (nothing changes then).
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached (then nothing changed).
    async fn reset_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, PortError>;

    /// A page of accounts, as [`UserListQuery`] describes: descending id order, ids
    /// below `before`, addresses containing `email_contains`, at most `limit`.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn list(&self, query: &UserListQuery) -> Result<Vec<User>, PortError>;

    /// Sets whether the account is disabled, and `updated_at` to `now`. Returns the
    /// updated account, or `None` when no account has this identifier.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn set_disabled(
        &self,
        id: UserId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError>;

    /// Sets the stored role, and `updated_at` to `now`. Returns the updated account,
    /// or `None` when no account has this identifier.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn set_role(&self, id: UserId, role: Role, now: OffsetDateTime) -> Result<Option<User>, PortError>;

    /// Replaces the account's address with `email` (already normalised), marks it
    /// verified at `now` unless it already was, and sets `updated_at` to `now`.
    /// Returns the updated account, or `None` when no account has this identifier.
    ///
    /// # Errors
    /// MUST return [`PortError::EmailTaken`] when another account has `email`,
    /// including when a concurrent `create` or `change_email` wins a race (nothing
    /// changes then); [`PortError::Unavailable`] when storage cannot be reached.
    async fn change_email(
        &self,
        id: UserId,
        email: &EmailAddress,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError>;

    /// Sets the language the person chose for mail and the page (`None` clears it), and
    /// `updated_at` to `now`. Returns the updated account, or `None` when no account has
    /// this identifier.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn set_locale(
        &self,
        id: UserId,
        locale: Option<&Locale>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError>;

    /// Deletes the account. Returns `false` when no account has this identifier.
    /// Storage that keeps the account's sessions and linked identities with it
    /// (PostgreSQL, through its foreign keys) deletes them in the same step; the
    /// domain ends the sessions first in any case. The address is free again at once.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn delete(&self, id: UserId) -> Result<bool, PortError>;
}
