//! Contract of [`RevocationChannel`].

use std::sync::Arc;
use std::time::Duration;

use crate::domain::{SessionId, UserId};
use crate::ports::{Revocation, RevocationChannel, RevocationFeed, RevocationNotice};

/// Longest wait for one notice.
const PATIENCE: Duration = Duration::from_secs(10);

async fn next(feed: &mut Box<dyn RevocationFeed>) -> RevocationNotice {
    tokio::time::timeout(PATIENCE, feed.next())
        .await
        .expect("no notice within the patience")
        .expect("the feed ended")
}

/// A feed of `channel` that is listening.
async fn listening(channel: &Arc<dyn RevocationChannel>) -> Box<dyn RevocationFeed> {
    let mut feed = channel.subscribe();
    loop {
        match next(&mut feed).await {
            RevocationNotice::Listening => return feed,
            RevocationNotice::Lost => {}
            other => panic!("a new feed must listen before it delivers, got {other:?}"),
        }
    }
}

pub async fn a_listening_feed_receives_each_revocation_in_order(channel: Arc<dyn RevocationChannel>) {
    let mut feed = listening(&channel).await;
    let sent = [
        Revocation::Session(SessionId::generate()),
        Revocation::Account(UserId::generate()),
        Revocation::Session(SessionId::generate()),
    ];
    for revocation in sent {
        channel.publish(revocation).await.unwrap();
    }
    for revocation in sent {
        assert_eq!(next(&mut feed).await, RevocationNotice::Revoked(revocation));
    }
}

pub async fn every_listening_feed_receives_a_revocation(channel: Arc<dyn RevocationChannel>) {
    let mut first = listening(&channel).await;
    let mut second = listening(&channel).await;
    let revocation = Revocation::Account(UserId::generate());
    channel.publish(revocation).await.unwrap();
    assert_eq!(next(&mut first).await, RevocationNotice::Revoked(revocation));
    assert_eq!(next(&mut second).await, RevocationNotice::Revoked(revocation));
}

pub async fn publishing_with_no_feed_listening_succeeds(channel: Arc<dyn RevocationChannel>) {
    let unheard = Revocation::Session(SessionId::generate());
    channel.publish(unheard).await.unwrap();
    let mut late = listening(&channel).await;
    let revocation = Revocation::Session(SessionId::generate());
    channel.publish(revocation).await.unwrap();
    let mut notice = next(&mut late).await;
    if notice == RevocationNotice::Revoked(unheard) {
        // On a Redis Cluster a message published just before the subscription may still
        // be crossing the cluster bus: hearing it late is harmless (one more eviction).
        notice = next(&mut late).await;
    }
    assert_eq!(notice, RevocationNotice::Revoked(revocation), "nothing else is heard");
}
