//! Contract of [`RateLimiter`].

use std::sync::Arc;
use std::time::Duration;

use super::instant;
use crate::ports::{RateDecision, RateLimit, RateLimiter};

type Limiter = Arc<dyn RateLimiter>;

const LIMIT: RateLimit = RateLimit { max: 3, window: Duration::from_secs(60) };

fn key() -> String {
    format!("contract:{}", uuid::Uuid::new_v4().simple())
}

pub async fn allows_max_hits_then_limits_with_a_wait(limiter: Limiter) {
    let (key, now) = (key(), instant());
    for _ in 0..3 {
        assert_eq!(limiter.hit(&key, LIMIT, now).await.unwrap(), RateDecision::Allowed);
    }
    let later = now + Duration::from_secs(15);
    let decision = limiter.hit(&key, LIMIT, later).await.unwrap();
    let RateDecision::Limited { retry_after } = decision else {
        panic!("expected a limit, got {decision:?}")
    };
    assert!(
        retry_after <= Duration::from_secs(45) && retry_after >= Duration::from_secs(44),
        "{retry_after:?}"
    );
}

pub async fn the_window_slides(limiter: Limiter) {
    let (key, now) = (key(), instant());
    limiter.hit(&key, LIMIT, now).await.unwrap();
    let mid = now + Duration::from_secs(30);
    limiter.hit(&key, LIMIT, mid).await.unwrap();
    limiter.hit(&key, LIMIT, mid).await.unwrap();
    assert!(matches!(limiter.hit(&key, LIMIT, mid).await.unwrap(), RateDecision::Limited { .. }));
    let after_first = now + Duration::from_secs(61);
    assert_eq!(limiter.hit(&key, LIMIT, after_first).await.unwrap(), RateDecision::Allowed);
    assert!(matches!(limiter.hit(&key, LIMIT, after_first).await.unwrap(), RateDecision::Limited { .. }));
}

pub async fn keys_are_counted_separately(limiter: Limiter) {
    let (first, second, now) = (key(), key(), instant());
    for _ in 0..3 {
        limiter.hit(&first, LIMIT, now).await.unwrap();
    }
    assert_eq!(limiter.hit(&second, LIMIT, now).await.unwrap(), RateDecision::Allowed);
}

pub async fn concurrent_hits_allow_exactly_max(limiter: Limiter) {
    let (key, now) = (key(), instant());
    let limit = RateLimit { max: 10, window: Duration::from_secs(60) };
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (limiter, key) = (Arc::clone(&limiter), key.clone());
            tokio::spawn(async move { limiter.hit(&key, limit, now).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if task.await.unwrap() == RateDecision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}

pub async fn hitting_several_keys_counts_each_in_turn_up_to_the_first_limited(limiter: Limiter) {
    let (first, second, third, now) = (key(), key(), key(), instant());
    let one = RateLimit { max: 1, ..LIMIT };
    let hits = [(first.as_str(), LIMIT), (second.as_str(), one), (third.as_str(), LIMIT)];
    let all = limiter.hit_each(&hits, now).await.unwrap();
    assert_eq!(all, [RateDecision::Allowed; 3]);
    let stopped = limiter.hit_each(&hits, now).await.unwrap();
    assert!(
        matches!(stopped.as_slice(), [RateDecision::Allowed, RateDecision::Limited { retry_after }] if !retry_after.is_zero()),
        "{stopped:?}"
    );
    // The first key has two hits counted, the third still one: one more of each fits.
    assert_eq!(limiter.hit(&first, LIMIT, now).await.unwrap(), RateDecision::Allowed);
    assert!(matches!(limiter.hit(&first, LIMIT, now).await.unwrap(), RateDecision::Limited { .. }));
    assert_eq!(limiter.hit(&third, LIMIT, now).await.unwrap(), RateDecision::Allowed);
    assert_eq!(limiter.hit(&third, LIMIT, now).await.unwrap(), RateDecision::Allowed);
    assert!(limiter.hit_each(&[], now).await.unwrap().is_empty());
}
