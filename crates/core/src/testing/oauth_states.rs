//! Contract of [`OAuthStateStore`].

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::instant;
use crate::crypto::{KeyedHasher, StateHash};
use crate::ports::{EXPIRED_STATE_RETENTION, OAuthStateStore, PendingAuthorization};

type Store = Arc<dyn OAuthStateStore>;

/// A key no other test uses, so suites can share one store.
fn key() -> StateHash {
    KeyedHasher::new(&[6; 32]).unwrap().state_hash(&uuid::Uuid::new_v4().to_string())
}

fn pending(provider: &str, expires_at: OffsetDateTime) -> PendingAuthorization {
    PendingAuthorization {
        provider: provider.to_owned(),
        code_verifier: format!("verifier-{}", uuid::Uuid::new_v4().simple()),
        nonce: format!("nonce-{}", uuid::Uuid::new_v4().simple()),
        redirect_uri: "http://127.0.0.1:8080/oauth/callback?from=contract".to_owned(),
        client_binding: KeyedHasher::new(&[6; 32]).unwrap().binding_hash(&uuid::Uuid::new_v4().to_string()),
        expires_at,
    }
}

fn retention() -> Duration {
    Duration::try_from(EXPIRED_STATE_RETENTION).unwrap()
}

pub async fn a_stored_authorization_is_taken_once_exactly_as_stored(store: Store) {
    let (key, now) = (key(), instant());
    let stored = pending("google", now + Duration::minutes(10));
    store.put(&key, &stored, now).await.unwrap();
    assert_eq!(store.take(&key).await.unwrap(), Some(stored));
    assert_eq!(store.take(&key).await.unwrap(), None, "a second take finds nothing");
}

pub async fn unknown_keys_are_not_found(store: Store) {
    assert_eq!(store.take(&key()).await.unwrap(), None);
}

pub async fn keys_are_independent(store: Store) {
    let (first_key, second_key, now) = (key(), key(), instant());
    let first = pending("google", now + Duration::minutes(10));
    let second = pending("github", now + Duration::minutes(10));
    store.put(&first_key, &first, now).await.unwrap();
    store.put(&second_key, &second, now).await.unwrap();
    assert_eq!(store.take(&second_key).await.unwrap(), Some(second));
    assert_eq!(store.take(&first_key).await.unwrap(), Some(first));
}

pub async fn an_expired_authorization_is_kept_through_its_retention(store: Store) {
    let (key, now) = (key(), instant());
    let expired = pending("google", now - Duration::minutes(1));
    assert!(expired.expires_at + retention() > now);
    store.put(&key, &expired, now).await.unwrap();
    assert_eq!(store.take(&key).await.unwrap(), Some(expired), "the caller judges expiry");
}

pub async fn an_authorization_past_its_retention_is_not_stored(store: Store) {
    let (key, now) = (key(), instant());
    let stale = pending("google", now - retention() - Duration::seconds(1));
    store.put(&key, &stale, now).await.unwrap();
    assert_eq!(store.take(&key).await.unwrap(), None);
}

pub async fn of_concurrent_takes_exactly_one_gets_the_record(store: Store) {
    let (key, now) = (key(), instant());
    let stored = pending("github", now + Duration::minutes(10));
    store.put(&key, &stored, now).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.take(&key).await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for task in tasks {
        if let Some(record) = task.await.unwrap() {
            taken.push(record);
        }
    }
    assert_eq!(taken, [stored]);
}
