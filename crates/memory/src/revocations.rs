//! Revocations pushed within this process.

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::ports::{Revocation, RevocationChannel, RevocationFeed, RevocationNotice};
use tokio::sync::broadcast::{self, error::RecvError};

/// How many revocations a feed may fall behind before it is told it lost some.
const BACKLOG: usize = 4096;

/// A [`RevocationChannel`] within one process (an in-process broadcast): for the
/// embedded default, where one instance serves everything.
#[derive(Debug)]
pub struct MemoryRevocationChannel {
    sender: broadcast::Sender<Revocation>,
}

impl MemoryRevocationChannel {
    /// A channel with no feed yet.
    pub fn new() -> Self {
        Self { sender: broadcast::channel(BACKLOG).0 }
    }
}

impl Default for MemoryRevocationChannel {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl RevocationChannel for MemoryRevocationChannel {
    async fn publish(&self, revocation: Revocation) -> Result<(), PortError> {
        // An error only means that no feed is listening.
        let _ = self.sender.send(revocation);
        Ok(())
    }

    fn subscribe(&self) -> Box<dyn RevocationFeed> {
        Box::new(MemoryFeed { receiver: self.sender.subscribe(), listening: false })
    }
}

/// A feed of [`MemoryRevocationChannel`]: listening from its creation; a feed that
/// fell more than [`BACKLOG`] behind is told it lost some, then listens again.
#[derive(Debug)]
struct MemoryFeed {
    receiver: broadcast::Receiver<Revocation>,
    listening: bool,
}

#[async_trait]
impl RevocationFeed for MemoryFeed {
    async fn next(&mut self) -> Option<RevocationNotice> {
        if !self.listening {
            self.listening = true;
            return Some(RevocationNotice::Listening);
        }
        match self.receiver.recv().await {
            Ok(revocation) => Some(RevocationNotice::Revoked(revocation)),
            Err(RecvError::Lagged(_)) => {
                self.listening = false;
                Some(RevocationNotice::Lost)
            }
            Err(RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use otp_core::SessionId;

    use super::*;

    #[tokio::test]
    async fn a_feed_that_falls_behind_is_told_and_listens_again() {
        let channel = MemoryRevocationChannel::new();
        let mut feed = channel.subscribe();
        assert_eq!(feed.next().await, Some(RevocationNotice::Listening));
        for _ in 0..=BACKLOG {
            channel.publish(Revocation::Session(SessionId::generate())).await.unwrap();
        }
        assert_eq!(feed.next().await, Some(RevocationNotice::Lost));
        assert_eq!(feed.next().await, Some(RevocationNotice::Listening));
        assert!(matches!(feed.next().await, Some(RevocationNotice::Revoked(_))));
    }

    #[tokio::test]
    async fn a_feed_ends_with_its_channel() {
        let channel = MemoryRevocationChannel::new();
        let mut feed = channel.subscribe();
        assert_eq!(feed.next().await, Some(RevocationNotice::Listening));
        drop(channel);
        assert_eq!(feed.next().await, None);
    }
}
