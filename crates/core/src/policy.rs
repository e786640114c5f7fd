//! The limits the use cases enforce, with the documented defaults.

use std::time::Duration;

use time::OffsetDateTime;

use crate::domain::{EmailAddress, MAX_CODE_LENGTH, MIN_CODE_LENGTH, PasswordStrength};
use crate::ports::RateLimit;

/// Longest code lifetime allowed (NIST SP 800-63B: short-lived out-of-band secrets).
pub const MAX_CODE_TTL: Duration = Duration::from_secs(600);

/// Longest time a started provider sign-in may take before its `state` expires.
pub const MAX_OAUTH_STATE_TTL: Duration = Duration::from_secs(3600);

/// Longest absolute session lifetime allowed (ten years).
pub const MAX_SESSION_LIFETIME: Duration = Duration::from_secs(3650 * 86_400);

/// How long a session lasts: each refresh renews it for the refresh-token lifetime,
/// but never past its absolute lifetime, counted from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    /// Refresh-token lifetime, renewed at each rotation.
    pub refresh: Duration,
    /// Absolute lifetime from the session's start.
    pub max: Duration,
}

impl SessionLifetime {
    /// When a session begun at `created_at` and renewed at `now` stops working.
    pub fn expiry(&self, created_at: OffsetDateTime, now: OffsetDateTime) -> OffsetDateTime {
        (now + self.refresh).min(self.end(created_at))
    }

    /// The absolute end of a session begun at `created_at`.
    pub fn end(&self, created_at: OffsetDateTime) -> OffsetDateTime {
        created_at + self.max
    }
}

/// The most failed code guesses per address per day that may ever be allowed
/// (NIST SP 800-63B §5.2.2).
pub const MAX_CODE_FAILURES_PER_DAY: u32 = 100;

/// The most remembered devices an account may be allowed.
pub const MAX_DEVICES_PER_USER: usize = 1000;

/// The most concurrent sessions an account may be allowed.
pub const MAX_SESSIONS_PER_USER: usize = 1000;

/// Every tunable rule of the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPolicy {
    /// Digits per code (6).
    pub code_length: usize,
    /// Code lifetime (5 minutes; at most 10).
    pub code_ttl: Duration,
    /// Wrong tries before a code dies (5).
    pub max_code_attempts: u32,
    /// Least time between two codes to one address (60 seconds).
    pub resend_cooldown: Duration,
    /// Code checks per address per 24 hours from clients without one of the account's
    /// remembered devices (100; never more, NIST SP 800-63B §5.2.2); past it, code
    /// sign-in for the address from such clients is refused.
    pub max_code_failures_per_day: u32,
    /// Requests per client address per endpoint (20 a minute).
    pub per_ip_limit: RateLimit,
    /// Requests per address per endpoint (10 an hour).
    pub per_email_limit: RateLimit,
    /// Access-token lifetime (30 minutes); also how old the last
    /// code check may be before password log-in asks for a new code.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime, renewed at each rotation (30 days).
    pub refresh_token_ttl: Duration,
    /// Absolute session lifetime from sign-in: refresh stops past it (90 days).
    pub session_max_lifetime: Duration,
    /// Least strength of a new password (a zxcvbn score, 3; between 2 and 4).
    pub password_min_strength: u8,
    /// `iss` of access tokens.
    pub token_issuer: String,
    /// `aud` of access tokens.
    pub token_audience: String,
    /// How long a started provider sign-in may take: the lifetime of its `state`
    /// (10 minutes; between 1 minute and 1 hour).
    pub oauth_state_ttl: Duration,
    /// The account that is an administrator whenever its address is verified
    /// (unset by default: then only accounts given the role are).
    pub admin_email: Option<EmailAddress>,
    /// Token introspections per service credential (1200 a minute).
    pub per_credential_limit: RateLimit,
    /// The in-process cache of token checks and how far it is trusted.
    pub token_cache: TokenCachePolicy,
    /// Where the web page is reached (`PUBLIC_URL`): links in mail point at it.
    pub page_url: String,
    /// Most remembered devices per account (50; between 1 and
    /// [`MAX_DEVICES_PER_USER`]). A sign-in that would remember one more forgets the
    /// least recently used (one whose code check still counts last), so an account
    /// signing in from clients that never keep their device token (scripts, private
    /// windows) does not grow without bound.
    pub max_devices_per_user: usize,
    /// Most concurrent sessions per account (100; between 1 and
    /// [`MAX_SESSIONS_PER_USER`]). A sign-in that would open one more ends the least
    /// recently used (OWASP ASVS 5.0 V7.1.2), so listing and ending an account's
    /// sessions stay bounded work.
    pub max_sessions_per_user: usize,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        Self {
            code_length: 6,
            code_ttl: Duration::from_secs(300),
            max_code_attempts: 5,
            resend_cooldown: Duration::from_secs(60),
            max_code_failures_per_day: MAX_CODE_FAILURES_PER_DAY,
            per_ip_limit: RateLimit { max: 20, window: Duration::from_secs(60) },
            per_email_limit: RateLimit { max: 10, window: Duration::from_secs(3600) },
            access_token_ttl: Duration::from_secs(30 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            session_max_lifetime: Duration::from_secs(90 * 24 * 3600),
            password_min_strength: PasswordStrength::default().min_score(),
            token_issuer: "otp-auth".to_owned(),
            token_audience: "otp-auth".to_owned(),
            oauth_state_ttl: Duration::from_secs(600),
            admin_email: None,
            per_credential_limit: RateLimit { max: 1200, window: Duration::from_secs(60) },
            token_cache: TokenCachePolicy::default(),
            page_url: "http://localhost:8080".to_owned(),
            max_devices_per_user: 50,
            max_sessions_per_user: 100,
        }
    }
}

/// How much the token cache holds and how long it trusts what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCachePolicy {
    /// Most entries of each kind (verified tokens, sessions, accounts); 10,000. 0 turns
    /// the cache off.
    pub capacity: u64,
    /// How long a session's or account's state is trusted without reading storage
    /// again (30 s); also the longest a revocation whose push was lost goes unnoticed.
    /// Zero turns the cache off. Verified signatures are kept until their token
    /// expires, whatever this says.
    pub ttl: Duration,
    /// While revocations are not being received (the push channel is down), how old a
    /// cached session or account may be and still be trusted (5 s).
    pub staleness: Duration,
}

impl Default for TokenCachePolicy {
    fn default() -> Self {
        Self { capacity: 10_000, ttl: Duration::from_secs(30), staleness: Duration::from_secs(5) }
    }
}

impl TokenCachePolicy {
    /// Whether this policy caches anything.
    pub fn enabled(&self) -> bool {
        self.capacity > 0 && !self.ttl.is_zero()
    }
}

/// A rule of [`AuthPolicy`] set out of its allowed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// [`AuthPolicy::code_length`] is not between [`MIN_CODE_LENGTH`] and
    /// [`MAX_CODE_LENGTH`].
    #[error("codes must have between 6 and 10 digits")]
    CodeLength,
    /// [`AuthPolicy::code_ttl`] is zero or longer than [`MAX_CODE_TTL`].
    #[error("a code must live between 1 second and 10 minutes")]
    CodeLifetime,
    /// [`AuthPolicy::max_code_attempts`] is not between 1 and 10.
    #[error("a code must allow between 1 and 10 tries")]
    CodeAttempts,
    /// [`AuthPolicy::max_code_failures_per_day`] is not between 1 and
    /// [`MAX_CODE_FAILURES_PER_DAY`].
    #[error("the daily cap on wrong codes must be between 1 and 100")]
    CodeFailureCap,
    /// A rate limit allows no request at all.
    #[error("rate limits must allow at least 1 request per client, per address and per credential")]
    RateLimit,
    /// [`AuthPolicy::access_token_ttl`] is shorter than a minute.
    #[error("access tokens must live at least 1 minute")]
    AccessTokenLifetime,
    /// [`AuthPolicy::refresh_token_ttl`] is not longer than the access-token lifetime.
    #[error("refresh tokens must outlive access tokens")]
    RefreshTokenLifetime,
    /// [`AuthPolicy::session_max_lifetime`] is shorter than the access-token lifetime
    /// or longer than [`MAX_SESSION_LIFETIME`].
    #[error("a session's absolute lifetime must be between the access-token lifetime and ten years")]
    SessionLifetime,
    /// [`AuthPolicy::password_min_strength`] is not between
    /// [`MIN_STRENGTH`](crate::domain::MIN_STRENGTH) and
    /// [`MAX_STRENGTH`](crate::domain::MAX_STRENGTH).
    #[error("the minimum password strength must be between 2 and 4")]
    PasswordStrength,
    /// The token issuer or audience is empty.
    #[error("the token issuer and audience must not be empty")]
    TokenClaims,
    /// [`AuthPolicy::oauth_state_ttl`] is not between a minute and [`MAX_OAUTH_STATE_TTL`].
    #[error("a provider sign-in must be allowed between 1 minute and 1 hour")]
    OAuthStateLifetime,
    /// [`AuthPolicy::max_devices_per_user`] is not between 1 and [`MAX_DEVICES_PER_USER`].
    #[error("an account must be allowed between 1 and 1000 remembered devices")]
    DevicesPerUser,
    /// [`AuthPolicy::max_sessions_per_user`] is not between 1 and [`MAX_SESSIONS_PER_USER`].
    #[error("an account must be allowed between 1 and 1000 concurrent sessions")]
    SessionsPerUser,
}

impl AuthPolicy {
    /// The lifetime of sessions under this policy.
    pub fn session_lifetime(&self) -> SessionLifetime {
        SessionLifetime { refresh: self.refresh_token_ttl, max: self.session_max_lifetime }
    }

    /// The strength new passwords must have.
    ///
    /// # Errors
    /// [`PolicyError::PasswordStrength`] when the minimum is out of range.
    pub fn password_strength(&self) -> Result<PasswordStrength, PolicyError> {
        PasswordStrength::new(self.password_min_strength).ok_or(PolicyError::PasswordStrength)
    }

    /// Checks every value against its allowed range.
    ///
    /// # Errors
    /// The first [`PolicyError`] found.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if !(MIN_CODE_LENGTH..=MAX_CODE_LENGTH).contains(&self.code_length) {
            return Err(PolicyError::CodeLength);
        }
        if self.code_ttl.is_zero() || self.code_ttl > MAX_CODE_TTL {
            return Err(PolicyError::CodeLifetime);
        }
        if !(1..=10).contains(&self.max_code_attempts) {
            return Err(PolicyError::CodeAttempts);
        }
        if !(1..=MAX_CODE_FAILURES_PER_DAY).contains(&self.max_code_failures_per_day) {
            return Err(PolicyError::CodeFailureCap);
        }
        if self.per_ip_limit.max == 0 || self.per_email_limit.max == 0 || self.per_credential_limit.max == 0 {
            return Err(PolicyError::RateLimit);
        }
        if self.access_token_ttl < Duration::from_secs(60) {
            return Err(PolicyError::AccessTokenLifetime);
        }
        if self.refresh_token_ttl <= self.access_token_ttl {
            return Err(PolicyError::RefreshTokenLifetime);
        }
        if self.session_max_lifetime < self.access_token_ttl
            || self.session_max_lifetime > MAX_SESSION_LIFETIME
        {
            return Err(PolicyError::SessionLifetime);
        }
        self.password_strength()?;
        if self.token_issuer.is_empty() || self.token_audience.is_empty() {
            return Err(PolicyError::TokenClaims);
        }
        if self.oauth_state_ttl < Duration::from_secs(60) || self.oauth_state_ttl > MAX_OAUTH_STATE_TTL {
            return Err(PolicyError::OAuthStateLifetime);
        }
        if !(1..=MAX_DEVICES_PER_USER).contains(&self.max_devices_per_user) {
            return Err(PolicyError::DevicesPerUser);
        }
        if !(1..=MAX_SESSIONS_PER_USER).contains(&self.max_sessions_per_user) {
            return Err(PolicyError::SessionsPerUser);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let policy = AuthPolicy::default();
        assert_eq!(policy.code_length, 6);
        assert_eq!(policy.code_ttl.as_secs(), 300);
        assert_eq!(policy.max_code_attempts, 5);
        assert_eq!(policy.resend_cooldown.as_secs(), 60);
        assert_eq!(policy.per_ip_limit.max, 20);
        assert_eq!(policy.per_email_limit.max, 10);
        assert_eq!(policy.per_credential_limit.max, 1200);
        assert_eq!(policy.access_token_ttl.as_secs(), 1800);
        assert_eq!(policy.oauth_state_ttl.as_secs(), 600);
        assert_eq!(policy.session_max_lifetime.as_secs(), 90 * 86_400);
        assert_eq!(policy.password_min_strength, 3);
        assert_eq!(policy.max_devices_per_user, 50);
        assert_eq!(policy.max_sessions_per_user, 100);
        policy.validate().unwrap();
    }

    #[test]
    fn a_session_is_renewed_but_never_past_its_absolute_lifetime() {
        let lifetime = AuthPolicy::default().session_lifetime();
        let start = OffsetDateTime::UNIX_EPOCH;
        let day = time::Duration::days(1);
        assert_eq!(lifetime.expiry(start, start), start + 30 * day);
        assert_eq!(lifetime.expiry(start, start + 50 * day), start + 80 * day);
        assert_eq!(lifetime.expiry(start, start + 70 * day), start + 90 * day);
        assert_eq!(lifetime.end(start), start + 90 * day);
    }

    #[test]
    fn the_absolute_session_lifetime_is_bounded() {
        for seconds in [60, 3651 * 86_400] {
            let policy =
                AuthPolicy { session_max_lifetime: Duration::from_secs(seconds), ..AuthPolicy::default() };
            assert_eq!(policy.validate().unwrap_err(), PolicyError::SessionLifetime);
        }
    }

    #[test]
    fn code_lifetime_never_exceeds_ten_minutes() {
        let policy = AuthPolicy { code_ttl: Duration::from_secs(601), ..AuthPolicy::default() };
        assert_eq!(policy.validate().unwrap_err(), PolicyError::CodeLifetime);
    }

    #[test]
    fn refuses_out_of_range_values() {
        let short = AuthPolicy { code_length: 4, ..AuthPolicy::default() };
        assert_eq!(short.validate().unwrap_err(), PolicyError::CodeLength);
        let cap = AuthPolicy { max_code_failures_per_day: 101, ..AuthPolicy::default() };
        assert_eq!(cap.validate().unwrap_err(), PolicyError::CodeFailureCap);
        let no_tries = AuthPolicy { max_code_attempts: 0, ..AuthPolicy::default() };
        assert_eq!(no_tries.validate().unwrap_err(), PolicyError::CodeAttempts);
        let refresh = AuthPolicy { refresh_token_ttl: Duration::from_secs(60), ..AuthPolicy::default() };
        assert_eq!(refresh.validate().unwrap_err(), PolicyError::RefreshTokenLifetime);
        for score in [0, 1, 5] {
            let strength = AuthPolicy { password_min_strength: score, ..AuthPolicy::default() };
            assert_eq!(strength.validate().unwrap_err(), PolicyError::PasswordStrength);
        }
        for seconds in [59, 3601] {
            let state = AuthPolicy { oauth_state_ttl: Duration::from_secs(seconds), ..AuthPolicy::default() };
            assert_eq!(state.validate().unwrap_err(), PolicyError::OAuthStateLifetime);
        }
        for devices in [0, MAX_DEVICES_PER_USER + 1] {
            let limit = AuthPolicy { max_devices_per_user: devices, ..AuthPolicy::default() };
            assert_eq!(limit.validate().unwrap_err(), PolicyError::DevicesPerUser);
        }
        for sessions in [0, MAX_SESSIONS_PER_USER + 1] {
            let limit = AuthPolicy { max_sessions_per_user: sessions, ..AuthPolicy::default() };
            assert_eq!(limit.validate().unwrap_err(), PolicyError::SessionsPerUser);
        }
    }
}
