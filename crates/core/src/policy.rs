//! The limits the use cases enforce, with the documented defaults.

use std::time::Duration;

use crate::domain::{EmailAddress, MAX_CODE_LENGTH, MIN_CODE_LENGTH};
use crate::ports::RateLimit;

/// Longest code lifetime allowed (NIST SP 800-63B: short-lived out-of-band secrets).
pub const MAX_CODE_TTL: Duration = Duration::from_secs(600);

/// Longest time a started provider sign-in may take before its `state` expires.
pub const MAX_OAUTH_STATE_TTL: Duration = Duration::from_secs(3600);

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
    /// Requests per client address per endpoint (20 a minute).
    pub per_ip_limit: RateLimit,
    /// Requests per address per endpoint (10 an hour).
    pub per_email_limit: RateLimit,
    /// Access-token lifetime (30 minutes); also how old the last
    /// code check may be before password log-in asks for a new code.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime, renewed at each rotation (30 days).
    pub refresh_token_ttl: Duration,
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
}

impl Default for AuthPolicy {
    fn default() -> Self {
        Self {
            code_length: 6,
            code_ttl: Duration::from_secs(300),
            max_code_attempts: 5,
            resend_cooldown: Duration::from_secs(60),
            per_ip_limit: RateLimit { max: 20, window: Duration::from_secs(60) },
            per_email_limit: RateLimit { max: 10, window: Duration::from_secs(3600) },
            access_token_ttl: Duration::from_secs(30 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            token_issuer: "otp-auth".to_owned(),
            token_audience: "otp-auth".to_owned(),
            oauth_state_ttl: Duration::from_secs(600),
            admin_email: None,
            per_credential_limit: RateLimit { max: 1200, window: Duration::from_secs(60) },
        }
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
    /// A rate limit allows no request at all.
    #[error("rate limits must allow at least 1 request per client, per address and per credential")]
    RateLimit,
    /// [`AuthPolicy::access_token_ttl`] is shorter than a minute.
    #[error("access tokens must live at least 1 minute")]
    AccessTokenLifetime,
    /// [`AuthPolicy::refresh_token_ttl`] is not longer than the access-token lifetime.
    #[error("refresh tokens must outlive access tokens")]
    RefreshTokenLifetime,
    /// The token issuer or audience is empty.
    #[error("the token issuer and audience must not be empty")]
    TokenClaims,
    /// [`AuthPolicy::oauth_state_ttl`] is not between a minute and [`MAX_OAUTH_STATE_TTL`].
    #[error("a provider sign-in must be allowed between 1 minute and 1 hour")]
    OAuthStateLifetime,
}

impl AuthPolicy {
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
        if self.per_ip_limit.max == 0 || self.per_email_limit.max == 0 || self.per_credential_limit.max == 0 {
            return Err(PolicyError::RateLimit);
        }
        if self.access_token_ttl < Duration::from_secs(60) {
            return Err(PolicyError::AccessTokenLifetime);
        }
        if self.refresh_token_ttl <= self.access_token_ttl {
            return Err(PolicyError::RefreshTokenLifetime);
        }
        if self.token_issuer.is_empty() || self.token_audience.is_empty() {
            return Err(PolicyError::TokenClaims);
        }
        if self.oauth_state_ttl < Duration::from_secs(60) || self.oauth_state_ttl > MAX_OAUTH_STATE_TTL {
            return Err(PolicyError::OAuthStateLifetime);
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
        policy.validate().unwrap();
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
        let no_tries = AuthPolicy { max_code_attempts: 0, ..AuthPolicy::default() };
        assert_eq!(no_tries.validate().unwrap_err(), PolicyError::CodeAttempts);
        let refresh = AuthPolicy { refresh_token_ttl: Duration::from_secs(60), ..AuthPolicy::default() };
        assert_eq!(refresh.validate().unwrap_err(), PolicyError::RefreshTokenLifetime);
        for seconds in [59, 3601] {
            let state = AuthPolicy { oauth_state_ttl: Duration::from_secs(seconds), ..AuthPolicy::default() };
            assert_eq!(state.validate().unwrap_err(), PolicyError::OAuthStateLifetime);
        }
    }
}
