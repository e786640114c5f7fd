//! Contract of [`WebhookOutbox`]. Each test uses accounts and endpoints of its own, so
//! suites may share one store.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::instant;
use crate::domain::{EventId, OutboxId, UserId};
use crate::ports::{ClaimedWebhook, NewWebhook, WebhookOutbox};

type Outbox = Arc<dyn WebhookOutbox>;

const LEASE: Duration = Duration::from_secs(60);

fn endpoint() -> String {
    format!("http://127.0.0.1:9/{}", uuid::Uuid::new_v4().simple())
}

fn delivery(user_id: UserId, endpoint: &str, now: OffsetDateTime) -> NewWebhook {
    let event_id = EventId::generate();
    NewWebhook {
        id: OutboxId::generate(),
        event_id,
        user_id,
        endpoint: endpoint.to_owned(),
        payload: format!(r#"{{"type":"user.signed_in","data":{{"id":"{event_id}"}}}}"#),
        queued_at: now,
    }
}

/// Claims everything due at `now` and keeps the test's own deliveries.
async fn claim_mine(outbox: &Outbox, now: OffsetDateTime, endpoint: &str) -> Vec<ClaimedWebhook> {
    let claimed = outbox.claim(now, 1000, LEASE).await.unwrap();
    claimed.into_iter().filter(|delivery| delivery.endpoint == endpoint).collect()
}

pub async fn a_queued_delivery_is_claimed_once_with_its_content(outbox: Outbox) {
    let (now, endpoint) = (instant(), endpoint());
    let queued = delivery(UserId::generate(), &endpoint, now);
    outbox.enqueue(std::slice::from_ref(&queued)).await.unwrap();
    let claimed = claim_mine(&outbox, now, &endpoint).await;
    assert_eq!(claimed.len(), 1);
    let claimed = &claimed[0];
    assert_eq!((claimed.id, claimed.event_id), (queued.id, queued.event_id));
    assert_eq!((&claimed.payload, claimed.attempts), (&queued.payload, 1));
    assert!(claim_mine(&outbox, now, &endpoint).await.is_empty(), "hidden while leased");
}

pub async fn an_accounts_later_delivery_waits_until_the_earlier_one_is_completed(outbox: Outbox) {
    let (now, endpoint) = (instant(), endpoint());
    let user = UserId::generate();
    let first = delivery(user, &endpoint, now);
    let second = delivery(user, &endpoint, now);
    let other_account = delivery(UserId::generate(), &endpoint, now);
    outbox.enqueue(&[first.clone(), second.clone()]).await.unwrap();
    outbox.enqueue(std::slice::from_ref(&other_account)).await.unwrap();
    let ids =
        |claimed: Vec<ClaimedWebhook>| claimed.into_iter().map(|delivery| delivery.id).collect::<Vec<_>>();
    assert_eq!(ids(claim_mine(&outbox, now, &endpoint).await), vec![first.id, other_account.id]);
    // Still waiting while the first is leased, and while it is deferred.
    outbox.retry_at(first.id, now + Duration::from_secs(5)).await.unwrap();
    assert!(claim_mine(&outbox, now + Duration::from_secs(1), &endpoint).await.is_empty());
    let later = now + Duration::from_secs(6);
    let retried = claim_mine(&outbox, later, &endpoint).await;
    assert_eq!(ids(retried.clone()), vec![first.id]);
    assert_eq!(retried[0].attempts, 2);
    outbox.complete(first.id).await.unwrap();
    assert_eq!(ids(claim_mine(&outbox, later, &endpoint).await), vec![second.id]);
}

pub async fn each_endpoint_keeps_its_own_order(outbox: Outbox) {
    let (now, down, up) = (instant(), endpoint(), endpoint());
    let user = UserId::generate();
    let (first_down, first_up) = (delivery(user, &down, now), delivery(user, &up, now));
    let (second_down, second_up) = (delivery(user, &down, now), delivery(user, &up, now));
    outbox.enqueue(&[first_down.clone(), first_up.clone()]).await.unwrap();
    outbox.enqueue(&[second_down.clone(), second_up.clone()]).await.unwrap();
    let claimed = outbox.claim(now, 1000, LEASE).await.unwrap();
    let mine: HashSet<OutboxId> = claimed
        .into_iter()
        .filter(|delivery| delivery.endpoint == down || delivery.endpoint == up)
        .map(|delivery| delivery.id)
        .collect();
    assert_eq!(mine, HashSet::from([first_down.id, first_up.id]));
    // The endpoint that answered moves on; the one that failed holds its account's queue.
    outbox.complete(first_up.id).await.unwrap();
    outbox.retry_at(first_down.id, now + Duration::from_secs(30)).await.unwrap();
    let next = now + Duration::from_secs(1);
    let up_claims = claim_mine(&outbox, next, &up).await;
    assert_eq!(up_claims.into_iter().map(|delivery| delivery.id).collect::<Vec<_>>(), vec![second_up.id]);
    assert!(claim_mine(&outbox, next, &down).await.is_empty());
}

pub async fn an_expired_lease_makes_the_delivery_due_again(outbox: Outbox) {
    let (now, endpoint) = (instant(), endpoint());
    let queued = delivery(UserId::generate(), &endpoint, now);
    outbox.enqueue(std::slice::from_ref(&queued)).await.unwrap();
    assert_eq!(claim_mine(&outbox, now, &endpoint).await.len(), 1);
    let after_lease = now + LEASE + Duration::from_secs(1);
    let again = claim_mine(&outbox, after_lease, &endpoint).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
}

pub async fn a_completed_delivery_is_gone_and_depth_counts_the_rest(outbox: Outbox) {
    let (now, endpoint) = (instant(), endpoint());
    let before = outbox.depth().await.unwrap();
    let first = delivery(UserId::generate(), &endpoint, now);
    let second = delivery(UserId::generate(), &endpoint, now);
    outbox.enqueue(&[first.clone(), second.clone()]).await.unwrap();
    assert!(outbox.depth().await.unwrap() >= before + 2);
    assert_eq!(claim_mine(&outbox, now, &endpoint).await.len(), 2);
    outbox.complete(first.id).await.unwrap();
    let after_lease = now + LEASE + Duration::from_secs(1);
    let left = claim_mine(&outbox, after_lease, &endpoint).await;
    assert_eq!(left.into_iter().map(|delivery| delivery.id).collect::<Vec<_>>(), vec![second.id]);
}

pub async fn concurrent_claims_never_share_a_delivery(outbox: Outbox) {
    let (now, endpoint) = (instant(), endpoint());
    let queued: Vec<NewWebhook> = (0..40).map(|_| delivery(UserId::generate(), &endpoint, now)).collect();
    outbox.enqueue(&queued).await.unwrap();
    let claims = (0..4).map(|_| {
        let (outbox, endpoint) = (outbox.clone(), endpoint.clone());
        tokio::spawn(async move { claim_mine(&outbox, now, &endpoint).await })
    });
    let mut seen = HashSet::new();
    for claim in claims {
        for delivery in claim.await.unwrap() {
            assert!(seen.insert(delivery.id), "claimed twice");
        }
    }
    assert_eq!(seen.len(), queued.len());
}

/// Expands into the [`webhooks`](crate::testing::webhooks) contract tests (an `async`
/// expression yielding a [`Fixture`](crate::testing::Fixture) of
/// `Arc<dyn WebhookOutbox>`).
#[macro_export]
macro_rules! webhook_outbox_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::webhooks,
            [
                a_queued_delivery_is_claimed_once_with_its_content,
                an_accounts_later_delivery_waits_until_the_earlier_one_is_completed,
                each_endpoint_keeps_its_own_order,
                an_expired_lease_makes_the_delivery_due_again,
                a_completed_delivery_is_gone_and_depth_counts_the_rest,
                concurrent_claims_never_share_a_delivery,
            ]
        );
    };
}
