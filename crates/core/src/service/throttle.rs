//! Per-address and per-client rate limits on every endpoint that sends mail or checks
//! a secret.

use std::net::{IpAddr, Ipv6Addr};
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
    /// `oauth/{provider}/start`.
    OAuthStart,
    /// `oauth/{provider}/callback`.
    OAuthCallback,
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
            let key = format!("ip:{}:{}", action.as_str(), self.hasher.client_digest(&client_network(ip)));
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
                let mut parts = key.split(':');
                let (scope, action) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
                tracing::info!(limit = format!("{scope}:{action}"), "rate limited");
                metrics::counter!("otp_rate_limited_total", "scope" => scope.to_owned(), "action" => action.to_owned())
                    .increment(1);
                Err(AuthError::RateLimited { retry_after: retry_after.max(Duration::from_secs(1)) })
            }
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
