//! The limits the use cases enforce, with the documented defaults.

use std::time::Duration;

use crate::domain::{EmailAddress, MAX_CODE_LENGTH, MIN_CODE_LENGTH};
use crate::error::ValidationError;
use crate::ports::RateLimit;

/// Longest code lifetime allowed (NIST SP 800-63B: short-lived out-of-band secrets).
pub const MAX_CODE_TTL: Duration = Duration::from_secs(600);

/// Longest time a started provider sign-in may take before its `state` expires.
pub const MAX_OAUTH_STATE_TTL: Duration = Duration::from_secs(3600);

/// Every tunable rule of the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPolicy {
    /// Digits per code (`OTP_LENGTH`, 6).
    pub code_length: usize,
    /// Code lifetime (`OTP_EXPIRE_SECONDS`, 300; at most 600).
    pub code_ttl: Duration,
    /// Wrong tries before a code dies (`OTP_MAX_ATTEMPTS`, 5).
    pub max_code_attempts: u32,
    /// Least time between two codes to one address (`OTP_RESEND_COOLDOWN_SECONDS`, 60).
    pub resend_cooldown: Duration,
    /// Requests per client address per endpoint (`RATE_LIMIT_PER_IP`, 20 a minute).
    pub per_ip_limit: RateLimit,
    /// Requests per address per endpoint (`RATE_LIMIT_PER_EMAIL`, 10 an hour).
    pub per_email_limit: RateLimit,
    /// Access-token lifetime (`ACCESS_TOKEN_EXPIRE_MINUTES`, 30); also how old the last
    /// code check may be before password log-in asks for a new code.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime, renewed at each rotation (`REFRESH_TOKEN_EXPIRE_DAYS`, 30).
    pub refresh_token_ttl: Duration,
    /// `iss` of access tokens (`TOKEN_ISSUER`).
    pub token_issuer: String,
    /// `aud` of access tokens (`TOKEN_AUDIENCE`).
    pub token_audience: String,
    /// How long a started provider sign-in may take: the lifetime of its `state`
    /// (`OAUTH_STATE_TTL_SECONDS`, 600; between 60 and 3600).
    pub oauth_state_ttl: Duration,
    /// The account that is an administrator whenever its address is verified
    /// (`ADMIN_EMAIL`, unset by default: then only accounts given the role are).
    pub admin_email: Option<EmailAddress>,
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
        }
    }
}

impl AuthPolicy {
    /// Checks every value against its allowed range.
    ///
    /// # Errors
    /// The first [`ValidationError`] found, naming the configuration key.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(MIN_CODE_LENGTH..=MAX_CODE_LENGTH).contains(&self.code_length) {
            return Err(ValidationError::new("OTP_LENGTH", "must be between 6 and 10"));
        }
        if self.code_ttl.is_zero() || self.code_ttl > MAX_CODE_TTL {
            return Err(ValidationError::new("OTP_EXPIRE_SECONDS", "must be between 1 and 600"));
        }
        if !(1..=10).contains(&self.max_code_attempts) {
            return Err(ValidationError::new("OTP_MAX_ATTEMPTS", "must be between 1 and 10"));
        }
        if self.per_ip_limit.max == 0 || self.per_email_limit.max == 0 {
            return Err(ValidationError::new(
                "RATE_LIMIT_PER_IP",
                "and RATE_LIMIT_PER_EMAIL must be at least 1",
            ));
        }
        if self.access_token_ttl < Duration::from_secs(60) {
            return Err(ValidationError::new("ACCESS_TOKEN_EXPIRE_MINUTES", "must be at least 1"));
        }
        if self.refresh_token_ttl <= self.access_token_ttl {
            return Err(ValidationError::new(
                "REFRESH_TOKEN_EXPIRE_DAYS",
                "must be longer than the access-token lifetime",
            ));
        }
        if self.token_issuer.is_empty() || self.token_audience.is_empty() {
            return Err(ValidationError::new("TOKEN_ISSUER", "and TOKEN_AUDIENCE must not be empty"));
        }
        if self.oauth_state_ttl < Duration::from_secs(60) || self.oauth_state_ttl > MAX_OAUTH_STATE_TTL {
            return Err(ValidationError::new("OAUTH_STATE_TTL_SECONDS", "must be between 60 and 3600"));
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
        assert_eq!(policy.access_token_ttl.as_secs(), 1800);
        assert_eq!(policy.oauth_state_ttl.as_secs(), 600);
        policy.validate().unwrap();
    }

    #[test]
    fn code_lifetime_never_exceeds_ten_minutes() {
        let policy = AuthPolicy { code_ttl: Duration::from_secs(601), ..AuthPolicy::default() };
        assert_eq!(policy.validate().unwrap_err().field, "OTP_EXPIRE_SECONDS");
    }

    #[test]
    fn refuses_out_of_range_values() {
        let short = AuthPolicy { code_length: 4, ..AuthPolicy::default() };
        assert_eq!(short.validate().unwrap_err().field, "OTP_LENGTH");
        let no_tries = AuthPolicy { max_code_attempts: 0, ..AuthPolicy::default() };
        assert_eq!(no_tries.validate().unwrap_err().field, "OTP_MAX_ATTEMPTS");
        let refresh = AuthPolicy { refresh_token_ttl: Duration::from_secs(60), ..AuthPolicy::default() };
        assert_eq!(refresh.validate().unwrap_err().field, "REFRESH_TOKEN_EXPIRE_DAYS");
        for seconds in [59, 3601] {
            let state = AuthPolicy { oauth_state_ttl: Duration::from_secs(seconds), ..AuthPolicy::default() };
            assert_eq!(state.validate().unwrap_err().field, "OAUTH_STATE_TTL_SECONDS");
        }
    }
}
