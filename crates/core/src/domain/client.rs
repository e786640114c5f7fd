//! What the edge knows about the caller.

use std::net::IpAddr;

/// Longest `User-Agent` kept on a session.
pub const MAX_USER_AGENT_CHARS: usize = 256;

/// The caller of a use case, as the transport saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientContext {
    /// The client address, already resolved through trusted proxies; `None` when the
    /// transport has no notion of one (per-address rate limits are then skipped).
    pub ip: Option<IpAddr>,
    /// The client's `User-Agent`, cut to [`MAX_USER_AGENT_CHARS`].
    pub user_agent: Option<String>,
}

impl ClientContext {
    /// A context for a client at `ip` with an optional user agent.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self { ip, user_agent: user_agent.map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect()) }
    }
}
