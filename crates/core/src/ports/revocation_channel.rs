use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;

use crate::domain::{SessionId, UserId};
use crate::error::PortError;

/// Something every instance must forget about at once: what it has cached about a
/// session or an account may no longer be true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Revocation {
    /// One session ended (logout, ended by its owner, refresh-token reuse).
    Session(SessionId),
    /// An account changed in a way that matters to its tokens: disabled, enabled,
    /// deleted, its role changed, or every one of its sessions ended (password reset,
    /// an administrator). Everything cached about it and its sessions is forgotten.
    Account(UserId),
}

impl fmt::Display for Revocation {
    /// The wire form: `session:{uuid}` or `account:{uuid}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Session(id) => write!(f, "session:{id}"),
            Self::Account(id) => write!(f, "account:{id}"),
        }
    }
}

/// A message that is not the wire form of a [`Revocation`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a revocation message")]
pub struct MalformedRevocation;

impl FromStr for Revocation {
    type Err = MalformedRevocation;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, id) = text.split_once(':').ok_or(MalformedRevocation)?;
        let id = uuid::Uuid::parse_str(id).map_err(|_| MalformedRevocation)?;
        match kind {
            "session" => Ok(Self::Session(SessionId::from_uuid(id))),
            "account" => Ok(Self::Account(UserId::from_uuid(id))),
            _ => Err(MalformedRevocation),
        }
    }
}

/// What a [`RevocationFeed`] tells its listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationNotice {
    /// The feed is listening (again): every revocation published from now on, until a
    /// [`RevocationNotice::Lost`], is delivered. Revocations published while it was not
    /// listening may have been missed.
    Listening,
    /// A revocation published by some instance (this one included).
    Revoked(Revocation),
    /// The feed stopped listening (a lost connection, a listener too slow to keep up):
    /// revocations may be missed until the next [`RevocationNotice::Listening`].
    Lost,
}

/// One instance's subscription to a [`RevocationChannel`].
#[async_trait]
pub trait RevocationFeed: Send + fmt::Debug {
    /// The next notice, waiting for it. A feed starts not listening: its first notice is
    /// [`RevocationNotice::Listening`] once it is, or [`RevocationNotice::Lost`] when it
    /// could not subscribe. It reconnects by itself after a [`RevocationNotice::Lost`].
    /// `None` only when the channel is gone for good (nothing will ever be delivered).
    async fn next(&mut self) -> Option<RevocationNotice>;
}

/// Pushes revocations to every instance of the service, so each can drop what it has
/// cached about an ended session or a changed account.
///
/// Delivery is at most once and best effort: a listener that was not listening when a
/// revocation was published does not get it, and is told so by
/// [`RevocationNotice::Lost`]. Listeners therefore distrust their caches while not
/// listening.
#[async_trait]
pub trait RevocationChannel: Send + Sync + fmt::Debug {
    /// Publishes `revocation` to every feed that is listening, this instance's included.
    /// A feed that is listening when this returns `Ok` MUST receive it.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when the channel cannot be reached.
    async fn publish(&self, revocation: Revocation) -> Result<(), PortError>;

    /// A new feed of this channel (see [`RevocationFeed::next`]).
    fn subscribe(&self) -> Box<dyn RevocationFeed>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_round_trip_through_their_wire_form() {
        for revocation in
            [Revocation::Session(SessionId::generate()), Revocation::Account(UserId::generate())]
        {
            assert_eq!(revocation.to_string().parse::<Revocation>(), Ok(revocation));
        }
        for bad in ["", "session", "session:nope", "user:0195f5c4-7d62-7c43-9d7e-6a5d2d1c6b01", "x:y:z"] {
            assert_eq!(bad.parse::<Revocation>(), Err(MalformedRevocation), "{bad}");
        }
    }
}
