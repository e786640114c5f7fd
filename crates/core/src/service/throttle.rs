//! Per-client and per-address rate limits on every endpoint that sends mail or checks
//! a secret: a small value the services hold, not a service of its own.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use crate::crypto::{CredentialId, KeyedHasher};
use crate::domain::{ClientContext, DeviceId, EmailAddress};
use crate::error::Failure;
use crate::policy::AuthPolicy;
use crate::ports::{Clock, RateDecision, RateLimit, RateLimiter};

/// The window of the daily cap on code guesses.
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The rate-limited actions; each has its own budget per client and per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `send-otp`.
    SendCode,
    /// `resend-otp`.
    ResendCode,
    /// `register`.
    Register,
    /// `verify-otp`.
    VerifyCode,
    /// `login`.
    Login,
    /// `refresh`.
    Refresh,
    /// `password/forgot`.
    ForgotPassword,
    /// `password/reset`.
    ResetPassword,
    /// `oauth/{provider}/start`.
    OAuthStart,
    /// `oauth/{provider}/callback`.
    OAuthCallback,
    /// `introspect`, limited per service credential.
    Introspect,
    /// Codes that confirm account changes (`me/code`, `email/change`), per client and
    /// per address.
    AccountCode,
    /// Checking a password or code that confirms an account change.
    AccountConfirm,
    /// `email/undo`.
    UndoEmailChange,
}

impl Action {
    /// A short stable name, used in limiter keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendCode => "send_code",
            Self::ResendCode => "resend_code",
            Self::Register => "register",
            Self::VerifyCode => "verify_code",
            Self::Login => "login",
            Self::Refresh => "refresh",
            Self::ForgotPassword => "forgot_password",
            Self::ResetPassword => "reset_password",
            Self::OAuthStart => "oauth_start",
            Self::OAuthCallback => "oauth_callback",
            Self::Introspect => "introspect",
            Self::AccountCode => "account_code",
            Self::AccountConfirm => "account_confirm",
            Self::UndoEmailChange => "undo_email_change",
        }
    }
}

/// The unit a client address is limited by: the IPv4 address itself, or the /64 an
/// IPv6 address belongs to (one host usually holds a whole /64, so counting single
/// addresses would give it billions of budgets).
pub fn client_network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let segments = v6.segments();
                let network = Ipv6Addr::new(segments[0], segments[1], segments[2], segments[3], 0, 0, 0, 0);
                format!("{network}/64")
            }
        },
    }
}

/// Why a throttled request was not let through.
#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    /// A budget is spent.
    #[error("too many requests; try again later")]
    Limited {
        /// How long until the next request would be accepted (at least a second).
        retry_after: Duration,
    },
    /// The limiter could not decide.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Spends rate-limit budgets: one per client network and action, one per address
/// and action.
#[derive(Debug, Clone)]
pub struct Throttle {
    limiter: Arc<dyn RateLimiter>,
    clock: Arc<dyn Clock>,
    hasher: KeyedHasher,
    per_client: RateLimit,
    per_address: RateLimit,
    per_credential: RateLimit,
    guesses_per_day: u32,
}

impl Throttle {
    /// A throttle on `limiter` with the policy's per-client and per-address limits.
    pub fn new(
        limiter: Arc<dyn RateLimiter>,
        clock: Arc<dyn Clock>,
        hasher: KeyedHasher,
        policy: &AuthPolicy,
    ) -> Self {
        Self {
            limiter,
            clock,
            hasher,
            per_client: policy.per_ip_limit,
            per_address: policy.per_email_limit,
            per_credential: policy.per_credential_limit,
            guesses_per_day: policy.max_code_failures_per_day,
        }
    }

    /// Counts one `action` against the client's network budget and, when given, the
    /// email address's budget. The address budget is only spent when the client's was
    /// not exhausted.
    ///
    /// # Errors
    /// [`ThrottleError::Limited`] when a budget is spent; a limiter failure.
    pub async fn check(
        &self,
        action: Action,
        client: &ClientContext,
        email: Option<&EmailAddress>,
    ) -> Result<(), ThrottleError> {
        self.check_for(action, client, email, None).await
    }

    /// As [`Throttle::check`], except that a request from one of the address's
    /// remembered devices (`device`) spends that device's own budget (the same size)
    /// instead of the address's shared one, so strangers spending the address's budget
    /// never lock its owner's device out.
    ///
    /// # Errors
    /// [`ThrottleError::Limited`] when a budget is spent; a limiter failure.
    pub async fn check_for(
        &self,
        action: Action,
        client: &ClientContext,
        email: Option<&EmailAddress>,
        device: Option<DeviceId>,
    ) -> Result<(), ThrottleError> {
        self.spend(&self.budgets_for(action, client, email, device)).await
    }

    /// Counts `budgets` (from [`Throttle::budgets_for`]) in one limiter call.
    ///
    /// # Errors
    /// [`ThrottleError::Limited`] when a budget is spent; a limiter failure.
    pub(crate) async fn spend(&self, budgets: &[(String, RateLimit)]) -> Result<(), ThrottleError> {
        let decisions = self.count(budgets).await?;
        Self::judge(budgets, &decisions)
    }

    /// The decisions made on `budgets`, in order, as a result: the first limited one is
    /// logged, counted and refused.
    ///
    /// # Errors
    /// [`ThrottleError::Limited`] for a limited decision.
    pub(crate) fn judge(
        budgets: &[(String, RateLimit)],
        decisions: &[RateDecision],
    ) -> Result<(), ThrottleError> {
        for ((key, _), decision) in budgets.iter().zip(decisions) {
            limited(key, *decision)?;
        }
        Ok(())
    }

    /// A code check for `email`: as [`Throttle::check_for`] with
    /// [`Action::VerifyCode`], and, from a client without one of the account's
    /// remembered devices (`device` is `None`), one check against the address's daily
    /// cap (`max_code_failures_per_day`), in one limiter call (one round trip where the
    /// limiter can). Every check counts against the cap, a right one too, so no more
    /// than the cap of wrong guesses can ever be made in a day; it is only counted when
    /// the request's budgets were not spent. Returns `None` when the check may go
    /// ahead, or how long until it may when the address is locked for such clients.
    ///
    /// # Errors
    /// [`ThrottleError::Limited`] when a request budget is spent; a limiter failure.
    pub async fn check_code_guess(
        &self,
        client: &ClientContext,
        email: &EmailAddress,
        device: Option<DeviceId>,
    ) -> Result<Option<Duration>, ThrottleError> {
        let guess = self.code_guess(client, email, device);
        let decisions = self.count(&guess.budgets).await?;
        guess.judge(&decisions)
    }

    /// The budgets a code check for `email` spends (see [`Throttle::check_code_guess`]),
    /// for a limiter call made elsewhere.
    pub(crate) fn code_guess(
        &self,
        client: &ClientContext,
        email: &EmailAddress,
        device: Option<DeviceId>,
    ) -> CodeGuess {
        let mut budgets = self.budgets_for(Action::VerifyCode, client, Some(email), device);
        let requests = budgets.len();
        if device.is_none() {
            budgets.push(self.guess_budget(email));
        }
        CodeGuess { budgets, requests }
    }

    /// The budgets one `action` spends: the client network's, and the address's or,
    /// from one of its remembered devices, that device's.
    pub(crate) fn budgets_for(
        &self,
        action: Action,
        client: &ClientContext,
        email: Option<&EmailAddress>,
        device: Option<DeviceId>,
    ) -> Vec<(String, RateLimit)> {
        let mut budgets = Vec::with_capacity(3);
        if let Some(ip) = client.ip {
            let key = format!("ip:{}:{}", action.as_str(), self.hasher.client_digest(&client_network(ip)));
            budgets.push((key, self.per_client));
        }
        match (device, email) {
            (Some(device), Some(_)) => budgets.push((
                format!("device:{}:{}", action.as_str(), device.as_uuid().simple()),
                self.per_address,
            )),
            (None, Some(email)) => budgets.push((
                format!("email:{}:{}", action.as_str(), self.hasher.email_digest(email)),
                self.per_address,
            )),
            (_, None) => {}
        }
        budgets
    }

    /// Counts `budgets` in one call (one round trip where the limiter can); the
    /// decisions, in order, up to and including the first that is spent.
    ///
    /// # Errors
    /// A limiter failure.
    pub(crate) async fn count(&self, budgets: &[(String, RateLimit)]) -> Result<Vec<RateDecision>, Failure> {
        Ok(self.limiter.hit_each(&hits_of(budgets), self.clock.now()).await?)
    }

    /// Counts one `action` against the budget of the service credential `credential`.
    ///
    /// # Errors
    /// [`ThrottleError::Limited`] when the budget is spent; a limiter failure.
    pub async fn check_service(
        &self,
        action: Action,
        credential: &CredentialId,
    ) -> Result<(), ThrottleError> {
        let key = format!("service:{}:{credential}", action.as_str());
        self.spend_one(&key, self.per_credential, self.clock.now()).await
    }

    /// The address's daily budget of code checks from clients without a remembered
    /// device.
    fn guess_budget(&self, email: &EmailAddress) -> (String, RateLimit) {
        let key = format!("email:code_guesses:{}", self.hasher.email_digest(email));
        (key, RateLimit { max: self.guesses_per_day, window: DAY })
    }

    /// Whether this is the first lock of `email` in a day: the owner is told once.
    ///
    /// # Errors
    /// A limiter failure.
    pub async fn first_lock_today(&self, email: &EmailAddress) -> Result<bool, Failure> {
        let key = format!("email:code_lock_notice:{}", self.hasher.email_digest(email));
        let decision = self.limiter.hit(&key, RateLimit { max: 1, window: DAY }, self.clock.now()).await?;
        Ok(decision == RateDecision::Allowed)
    }

    async fn spend_one(
        &self,
        key: &str,
        limit: RateLimit,
        now: time::OffsetDateTime,
    ) -> Result<(), ThrottleError> {
        limited(key, self.limiter.hit(key, limit, now).await.map_err(Failure::from)?)
    }
}

/// The budgets of one code check: the request's, then, from a client without a
/// remembered device, the address's daily guess cap.
#[derive(Debug)]
pub(crate) struct CodeGuess {
    /// Every budget, the request's first.
    pub(crate) budgets: Vec<(String, RateLimit)>,
    /// How many of them are the request's.
    requests: usize,
}

impl CodeGuess {
    /// The decisions made on these budgets: `None` when the check may go ahead, how long
    /// until it may when the address is locked for clients without a remembered device.
    ///
    /// # Errors
    /// [`ThrottleError::Limited`] when a request budget is spent.
    pub(crate) fn judge(&self, decisions: &[RateDecision]) -> Result<Option<Duration>, ThrottleError> {
        for (index, ((key, _), decision)) in self.budgets.iter().zip(decisions).enumerate() {
            if index < self.requests {
                limited(key, *decision)?;
            } else if let RateDecision::Limited { retry_after } = decision {
                return Ok(Some(guesses_locked(*retry_after)));
            }
        }
        Ok(None)
    }
}

/// `budgets` as the (key, limit) pairs the limiter and the code store count.
pub(crate) fn hits_of(budgets: &[(String, RateLimit)]) -> Vec<(&str, RateLimit)> {
    budgets.iter().map(|(key, limit)| (key.as_str(), *limit)).collect()
}

/// Counts a refusal by the daily guess cap; how long until a check may be made.
fn guesses_locked(retry_after: Duration) -> Duration {
    metrics::counter!("otp_code_guesses_locked_total").increment(1);
    retry_after.max(Duration::from_secs(1))
}

/// `decision` on `key` as a result: a limit reached is logged, counted and refused.
fn limited(key: &str, decision: RateDecision) -> Result<(), ThrottleError> {
    match decision {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after } => {
            let mut parts = key.split(':');
            let (scope, action) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            tracing::info!(limit = format!("{scope}:{action}"), "rate limited");
            metrics::counter!("otp_rate_limited_total", "scope" => scope.to_owned(), "action" => action.to_owned())
                .increment(1);
            Err(ThrottleError::Limited { retry_after: retry_after.max(Duration::from_secs(1)) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_per_64_and_ipv4_per_address() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(client_network(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(client_network(ip("2001:db8:1:2:ffff::9")), client_network(ip("2001:db8:1:2::1")));
        assert_ne!(client_network(ip("2001:db8:1:3::1")), client_network(ip("2001:db8:1:2::1")));
        assert_eq!(client_network(ip("203.0.113.5")), "203.0.113.5");
        assert_eq!(client_network(ip("::ffff:203.0.113.5")), "203.0.113.5");
    }
}
