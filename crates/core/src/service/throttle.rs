//! Per-address and per-client rate limits on every endpoint that sends mail or checks
//! a secret.

use std::time::Duration;

use super::AuthService;
use crate::domain::{ClientContext, EmailAddress};
use crate::error::AuthError;
use crate::ports::{RateDecision, RateLimit};

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
        }
    }
}

impl AuthService {
    /// Counts one `action` against the client's address budget and, when given, the
    /// email address's budget. The address budget is only spent when the client's
    /// was not exhausted.
    pub(super) async fn throttle(
        &self,
        action: Action,
        client: &ClientContext,
        email: Option<&EmailAddress>,
    ) -> Result<(), AuthError> {
        let now = self.now();
        if let Some(ip) = client.ip {
            let key = format!("ip:{}:{ip}", action.as_str());
            self.spend(&key, self.policy.per_ip_limit, now).await?;
        }
        if let Some(email) = email {
            let key = format!("email:{}:{}", action.as_str(), self.hasher.email_digest(email));
            self.spend(&key, self.policy.per_email_limit, now).await?;
        }
        Ok(())
    }

    async fn spend(&self, key: &str, limit: RateLimit, now: time::OffsetDateTime) -> Result<(), AuthError> {
        match self.ports.rate_limiter.hit(key, limit, now).await? {
            RateDecision::Allowed => Ok(()),
            RateDecision::Limited { retry_after } => {
                tracing::info!(limit = key.split(':').take(2).collect::<Vec<_>>().join(":"), "rate limited");
                Err(AuthError::RateLimited { retry_after: retry_after.max(Duration::from_secs(1)) })
            }
        }
    }
}
