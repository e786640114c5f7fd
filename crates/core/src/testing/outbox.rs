//! Contract of [`MailOutbox`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::instant;
use crate::domain::OutboxId;
use crate::ports::{MailOutbox, NewOutboxMessage};

type Outbox = Arc<dyn MailOutbox>;

const LEASE: Duration = Duration::from_secs(60);

fn message(now: OffsetDateTime) -> NewOutboxMessage {
    let id = OutboxId::generate();
    NewOutboxMessage {
        id,
        sealed: format!("v4.local.sealed-{id}"),
        expires_at: now + Duration::from_secs(600),
        queued_at: now,
        leased_until: None,
    }
}

async fn enqueue(outbox: &Outbox, now: OffsetDateTime) -> NewOutboxMessage {
    let message = message(now);
    outbox.enqueue(&message).await.unwrap();
    message
}

/// Claims everything due at `now` (the suites' stores may hold other tests' messages,
/// so each test looks only at its own).
async fn claim_ids(outbox: &Outbox, now: OffsetDateTime, mine: &[OutboxId]) -> Vec<OutboxId> {
    let claimed = outbox.claim(now, 1000, LEASE).await.unwrap();
    claimed.into_iter().map(|message| message.id).filter(|id| mine.contains(id)).collect()
}

pub async fn a_queued_message_is_claimed_once_with_its_content(outbox: Outbox) {
    let now = instant();
    let queued = enqueue(&outbox, now).await;
    let claimed = outbox.claim(now, 1000, LEASE).await.unwrap();
    let mine: Vec<_> = claimed.iter().filter(|message| message.id == queued.id).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].sealed, queued.sealed);
    assert_eq!(mine[0].expires_at, queued.expires_at);
    assert_eq!(mine[0].attempts, 1);
    assert!(claim_ids(&outbox, now, &[queued.id]).await.is_empty(), "hidden while leased");
}

pub async fn claims_return_the_oldest_first_up_to_the_limit(outbox: Outbox) {
    let now = instant();
    let first = enqueue(&outbox, now - Duration::from_secs(3)).await;
    let second = enqueue(&outbox, now - Duration::from_secs(2)).await;
    let _third = enqueue(&outbox, now - Duration::from_secs(1)).await;
    // Other tests' messages may be older; claim until ours show up, two at a time.
    let mut seen = Vec::new();
    for _ in 0..1000 {
        let batch = outbox.claim(now, 2, LEASE).await.unwrap();
        assert!(batch.len() <= 2);
        if batch.is_empty() {
            break;
        }
        seen.extend(batch.into_iter().map(|message| message.id));
        if seen.contains(&second.id) {
            break;
        }
    }
    let first_at = seen.iter().position(|id| *id == first.id).unwrap();
    let second_at = seen.iter().position(|id| *id == second.id).unwrap();
    assert!(first_at < second_at);
}

pub async fn a_completed_message_is_gone(outbox: Outbox) {
    let now = instant();
    let queued = enqueue(&outbox, now).await;
    assert_eq!(claim_ids(&outbox, now, &[queued.id]).await, vec![queued.id]);
    outbox.complete(queued.id).await.unwrap();
    let after_lease = now + LEASE + Duration::from_secs(1);
    assert!(claim_ids(&outbox, after_lease, &[queued.id]).await.is_empty());
}

pub async fn completing_several_removes_exactly_those(outbox: Outbox) {
    let now = instant();
    let kept = enqueue(&outbox, now).await;
    let first = enqueue(&outbox, now).await;
    let second = enqueue(&outbox, now).await;
    let all = [kept.id, first.id, second.id];
    assert_eq!(claim_ids(&outbox, now, &all).await.len(), 3);
    outbox.complete_all(&[first.id, second.id]).await.unwrap();
    outbox.complete_all(&[]).await.unwrap();
    outbox.complete_all(&[first.id]).await.unwrap();
    let after_lease = now + LEASE + Duration::from_secs(1);
    assert_eq!(claim_ids(&outbox, after_lease, &all).await, vec![kept.id]);
}

pub async fn a_deferred_message_comes_back_when_due_with_its_attempts_counted(outbox: Outbox) {
    let now = instant();
    let queued = enqueue(&outbox, now).await;
    assert_eq!(claim_ids(&outbox, now, &[queued.id]).await, vec![queued.id]);
    let retry = now + Duration::from_secs(5);
    outbox.retry_at(queued.id, retry).await.unwrap();
    assert!(claim_ids(&outbox, now + Duration::from_secs(4), &[queued.id]).await.is_empty());
    let again = outbox.claim(retry, 1000, LEASE).await.unwrap();
    let mine = again.iter().find(|message| message.id == queued.id).unwrap();
    assert_eq!(mine.attempts, 2);
}

pub async fn an_expired_lease_makes_the_message_due_again(outbox: Outbox) {
    let now = instant();
    let queued = enqueue(&outbox, now).await;
    assert_eq!(claim_ids(&outbox, now, &[queued.id]).await, vec![queued.id]);
    assert!(claim_ids(&outbox, now + LEASE - Duration::from_secs(1), &[queued.id]).await.is_empty());
    assert_eq!(claim_ids(&outbox, now + LEASE, &[queued.id]).await, vec![queued.id]);
}

pub async fn a_message_queued_leased_is_hidden_until_its_lease_ends_with_one_attempt_counted(outbox: Outbox) {
    let now = instant();
    let queued = NewOutboxMessage { leased_until: Some(now + LEASE), ..message(now) };
    outbox.enqueue(&queued).await.unwrap();
    assert!(claim_ids(&outbox, now, &[queued.id]).await.is_empty(), "leased by its queueing process");
    assert!(claim_ids(&outbox, now + LEASE - Duration::from_secs(1), &[queued.id]).await.is_empty());
    let due = outbox.claim(now + LEASE, 1000, LEASE).await.unwrap();
    let mine = due.iter().find(|message| message.id == queued.id).expect("due when its lease ends");
    assert_eq!(mine.attempts, 2, "the queueing process's attempt counts");
    assert_eq!(mine.sealed, queued.sealed);
}

pub async fn a_released_message_is_due_at_once_without_spending_an_attempt(outbox: Outbox) {
    let now = instant();
    let queued = enqueue(&outbox, now).await;
    assert_eq!(claim_ids(&outbox, now, &[queued.id]).await, vec![queued.id]);
    outbox.release(queued.id, now).await.unwrap();
    let again = outbox.claim(now, 1000, LEASE).await.unwrap();
    let mine = again.iter().find(|message| message.id == queued.id).unwrap();
    assert_eq!(mine.attempts, 1);
}

pub async fn depth_counts_queued_and_leased_messages(outbox: Outbox) {
    // The store may be shared with other tests: look at the difference only, with
    // messages due in the future so no other test claims them.
    let later = instant() + Duration::from_secs(3600);
    let before = outbox.depth().await.unwrap();
    let queued = [enqueue(&outbox, later).await, enqueue(&outbox, later).await];
    assert!(outbox.depth().await.unwrap() >= before + 2);
    for message in &queued {
        outbox.complete(message.id).await.unwrap();
    }
}

pub async fn concurrent_claims_never_share_a_message(outbox: Outbox) {
    let now = instant();
    let mut mine = Vec::new();
    for _ in 0..40 {
        mine.push(enqueue(&outbox, now).await.id);
    }
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let outbox = Arc::clone(&outbox);
            tokio::spawn(async move { outbox.claim(now, 10, LEASE).await.unwrap() })
        })
        .collect();
    let mut seen = HashSet::new();
    for task in tasks {
        for message in task.await.unwrap() {
            assert!(seen.insert(message.id), "claimed twice: {}", message.id);
        }
    }
    // Whatever is left of ours is still claimable exactly once.
    let rest = claim_ids(&outbox, now, &mine).await;
    for id in rest {
        assert!(seen.insert(id), "claimed twice: {id}");
    }
    assert!(mine.iter().all(|id| seen.contains(id)), "every message claimed once");
}
