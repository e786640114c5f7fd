//! Recent liveness answers, per token id, bounded in size. Concurrent checks of one
//! token share one request: the first makes it, the others wait for its answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::error::FetchError;

/// How long a check that is still unanswered keeps its slot before a new one replaces
/// it (the request itself times out much sooner).
const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// What the introspection endpoint said about a token, or that it said nothing usable.
#[derive(Debug, Clone)]
pub(crate) enum Liveness {
    Active,
    Inactive,
    Unavailable(Arc<FetchError>),
}

/// An answer and until when it may be reused.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) liveness: Liveness,
    pub(crate) valid_until: Instant,
}

/// One token's answer, or the check under way for it.
pub(crate) type Slot = Arc<OnceCell<Answer>>;

#[derive(Debug)]
struct Entry {
    slot: Slot,
    created: Instant,
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        match self.slot.get() {
            Some(answer) => now < answer.valid_until,
            None => now < self.created + ABANDONED_AFTER,
        }
    }
}

/// The answers, by token id (`jti`, which is signed, so it cannot be forged).
#[derive(Debug)]
pub(crate) struct AnswerCache {
    entries: HashMap<Uuid, Entry>,
    max_entries: usize,
}

impl AnswerCache {
    pub(crate) fn new(max_entries: usize) -> Self {
        Self { entries: HashMap::new(), max_entries: max_entries.max(1) }
    }

    /// The slot for `token_id`: a reusable answer, the check under way, or a new empty
    /// slot whose first caller asks the endpoint.
    pub(crate) fn slot(&mut self, token_id: Uuid, now: Instant) -> Slot {
        if let Some(entry) = self.entries.get(&token_id).filter(|entry| entry.is_live(now)) {
            return entry.slot.clone();
        }
        self.entries.remove(&token_id);
        if self.entries.len() >= self.max_entries {
            self.evict(now);
        }
        let slot = Slot::default();
        self.entries.insert(token_id, Entry { slot: slot.clone(), created: now });
        slot
    }

    /// Drops expired answers; if the cache is still full, drops a tenth of it.
    fn evict(&mut self, now: Instant) {
        self.entries.retain(|_, entry| entry.is_live(now));
        let keep = self.max_entries - self.max_entries.div_ceil(10);
        if self.entries.len() > keep {
            let excess = self.entries.len() - keep;
            let dropped: Vec<Uuid> = self.entries.keys().take(excess).copied().collect();
            for token_id in dropped {
                self.entries.remove(&token_id);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(slot: &Slot, liveness: Liveness, valid_until: Instant) {
        slot.set(Answer { liveness, valid_until }).unwrap();
    }

    #[test]
    fn an_answer_is_reused_until_it_expires() {
        let now = Instant::now();
        let mut cache = AnswerCache::new(10);
        let token = Uuid::new_v4();
        let first = cache.slot(token, now);
        answered(&first, Liveness::Active, now + Duration::from_secs(5));
        assert!(Arc::ptr_eq(&first, &cache.slot(token, now + Duration::from_secs(4))));
        let later = cache.slot(token, now + Duration::from_secs(5));
        assert!(!Arc::ptr_eq(&first, &later) && later.get().is_none());
    }

    #[test]
    fn a_check_under_way_is_shared_then_abandoned_after_a_while() {
        let now = Instant::now();
        let mut cache = AnswerCache::new(10);
        let token = Uuid::new_v4();
        let first = cache.slot(token, now);
        assert!(Arc::ptr_eq(&first, &cache.slot(token, now + Duration::from_secs(1))));
        assert!(!Arc::ptr_eq(&first, &cache.slot(token, now + ABANDONED_AFTER)));
    }

    #[test]
    fn the_cache_never_grows_past_its_bound() {
        let now = Instant::now();
        let mut cache = AnswerCache::new(100);
        for _ in 0..1000 {
            let slot = cache.slot(Uuid::new_v4(), now);
            answered(&slot, Liveness::Inactive, now + Duration::from_secs(600));
            assert!(cache.len() <= 100);
        }
        assert!(cache.len() >= 90);
    }

    #[test]
    fn expired_answers_go_first() {
        let now = Instant::now();
        let mut cache = AnswerCache::new(4);
        let keep = Uuid::new_v4();
        answered(&cache.slot(keep, now), Liveness::Active, now + Duration::from_secs(60));
        for _ in 0..3 {
            answered(&cache.slot(Uuid::new_v4(), now), Liveness::Active, now + Duration::from_secs(1));
        }
        let later = now + Duration::from_secs(2);
        cache.slot(Uuid::new_v4(), later);
        assert_eq!(cache.len(), 2);
        assert!(cache.slot(keep, later).get().is_some());
    }
}
