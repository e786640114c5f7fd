//! What the edge knows about the caller.

use std::fmt;
use std::net::IpAddr;

use super::Locale;

/// Longest `User-Agent` kept on a session.
pub const MAX_USER_AGENT_CHARS: usize = 256;

/// Longest token text a client may present; anything longer is ignored.
const MAX_PRESENTED_TOKEN_CHARS: usize = 128;

/// A secret a client presented (a device or registration token), as text. It never
/// prints: its `Debug` form is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedToken(String);

impl PresentedToken {
    /// The trimmed text, or `None` when it is empty or too long to be a token.
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty() && text.len() <= MAX_PRESENTED_TOKEN_CHARS).then(|| Self(text.to_owned()))
    }

    /// The text, to hash or parse.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresentedToken(***)")
    }
}

/// The caller of a use case, as the transport saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientContext {
    /// The client address, already resolved through trusted proxies; `None` when the
    /// transport has no notion of one (per-address rate limits are then skipped).
    pub ip: Option<IpAddr>,
    /// The client's `User-Agent`, cut to [`MAX_USER_AGENT_CHARS`].
    pub user_agent: Option<String>,
    /// The device token the client sent (`X-Device-Token`), if any.
    pub device_token: Option<PresentedToken>,
    /// The registration token the client sent with a code step, if any.
    pub registration_token: Option<PresentedToken>,
    /// The language the client asked for (from `Accept-Language`, already narrowed to
    /// one the mail has), used for mail when the account has no stored locale.
    pub locale: Option<Locale>,
}

impl ClientContext {
    /// A context for a client at `ip` with an optional user agent.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect()),
            device_token: None,
            registration_token: None,
            locale: None,
        }
    }

    /// The same context carrying the device token `token` (ignored when blank).
    #[must_use]
    pub fn with_device_token(mut self, token: Option<&str>) -> Self {
        self.device_token = token.and_then(PresentedToken::new);
        self
    }

    /// The same context asking for mail in `locale`.
    #[must_use]
    pub fn with_locale(mut self, locale: Option<Locale>) -> Self {
        self.locale = locale;
        self
    }

    /// The same context carrying the registration token `token` (ignored when blank).
    #[must_use]
    pub fn with_registration_token(mut self, token: Option<&str>) -> Self {
        self.registration_token = token.and_then(PresentedToken::new);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_tokens_never_print_and_blank_ones_are_ignored() {
        let client =
            ClientContext::default().with_device_token(Some(" secret ")).with_registration_token(Some(""));
        assert_eq!(client.device_token.as_ref().map(PresentedToken::expose), Some("secret"));
        assert!(client.registration_token.is_none());
        assert!(!format!("{client:?}").contains("secret"));
        assert!(PresentedToken::new(&"x".repeat(129)).is_none());
    }
}
