//! Contract of [`CodeStore::issue_within`] and [`CodeStore::verify_within`]: a code
//! store with the rate limiter of the same storage. A store that cannot count the limiter's budgets answers `None` and must
//! then have changed nothing, which each case checks instead.

use std::sync::Arc;
use std::time::Duration;

use super::codes::{hash, key, new_code};
use super::instant;
use crate::domain::CodePurpose;
use crate::ports::{
    CodeKey, CodeStore, IssueOutcome, RateDecision, RateLimit, RateLimiter, VerifyOutcome, Within,
};

/// A code store and the rate limiter that shares its storage: what the
/// [`CodeStore::issue_within`] suite runs on.
#[derive(Debug, Clone)]
pub struct CodesBesideLimits {
    /// The adapter under test.
    pub codes: Arc<dyn CodeStore>,
    /// The limiter whose budgets it counts.
    pub limiter: Arc<dyn RateLimiter>,
}

impl super::Fixture for CodesBesideLimits {
    type Subject = Self;

    fn subject(&self) -> Self {
        self.clone()
    }
}

const ROOMY: RateLimit = RateLimit { max: 3, window: Duration::from_secs(60) };
const ONE: RateLimit = RateLimit { max: 1, window: Duration::from_secs(60) };

fn budget() -> String {
    format!("contract:{}", uuid::Uuid::new_v4().simple())
}

/// Asserts that `key` holds no code and that `budgets` still have all their room: what
/// a store that answered `None` must have left.
async fn nothing_done(store: &CodesBesideLimits, key: &CodeKey, budgets: &[(&str, RateLimit)]) {
    let now = instant();
    assert_eq!(store.codes.verify(key, &hash("123456"), now).await.unwrap(), VerifyOutcome::NotFound);
    for (budget, limit) in budgets {
        for _ in 0..limit.max {
            assert_eq!(store.limiter.hit(budget, *limit, now).await.unwrap(), RateDecision::Allowed);
        }
    }
}

pub async fn a_code_issued_within_budgets_counts_each_of_them(store: CodesBesideLimits) {
    let (first, second, key, now) = (budget(), budget(), key(CodePurpose::SignIn), instant());
    let hits = [(first.as_str(), ROOMY), (second.as_str(), ONE)];
    let Some(within) =
        store.codes.issue_within(&hits, &key, &new_code(hash("123456"), now), now).await.unwrap()
    else {
        return nothing_done(&store, &key, &hits).await;
    };
    assert_eq!(within, Within::Counted(IssueOutcome::Issued));
    assert_eq!(store.codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
    // One hit on each: the first has room for two more, the second none.
    assert!(matches!(store.limiter.hit(&second, ONE, now).await.unwrap(), RateDecision::Limited { .. }));
    for _ in 0..2 {
        assert_eq!(store.limiter.hit(&first, ROOMY, now).await.unwrap(), RateDecision::Allowed);
    }
    assert!(matches!(store.limiter.hit(&first, ROOMY, now).await.unwrap(), RateDecision::Limited { .. }));
}

pub async fn a_spent_budget_issues_nothing_and_counts_only_the_budgets_before_it(store: CodesBesideLimits) {
    let (first, spent, last, now) = (budget(), budget(), budget(), instant());
    let key = key(CodePurpose::SignIn);
    let hits = [(first.as_str(), ROOMY), (spent.as_str(), ONE), (last.as_str(), ONE)];
    assert_eq!(store.limiter.hit(&spent, ONE, now).await.unwrap(), RateDecision::Allowed);
    let Some(within) =
        store.codes.issue_within(&hits, &key, &new_code(hash("123456"), now), now).await.unwrap()
    else {
        assert!(matches!(store.limiter.hit(&spent, ONE, now).await.unwrap(), RateDecision::Limited { .. }));
        return nothing_done(&store, &key, &[hits[0], hits[2]]).await;
    };
    assert!(
        matches!(within.clone(), Within::Limited(decisions)
            if matches!(decisions.as_slice(), [RateDecision::Allowed, RateDecision::Limited { retry_after }]
                if !retry_after.is_zero())),
        "{within:?}"
    );
    assert_eq!(store.codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::NotFound);
    // The first budget was counted once (room for two more), the last not at all.
    for _ in 0..2 {
        assert_eq!(store.limiter.hit(&first, ROOMY, now).await.unwrap(), RateDecision::Allowed);
    }
    assert!(matches!(store.limiter.hit(&first, ROOMY, now).await.unwrap(), RateDecision::Limited { .. }));
    assert_eq!(store.limiter.hit(&last, ONE, now).await.unwrap(), RateDecision::Allowed);
}

pub async fn a_cooldown_is_answered_after_the_budgets_are_counted(store: CodesBesideLimits) {
    let (spent, key, now) = (budget(), key(CodePurpose::SignIn), instant());
    let hits = [(spent.as_str(), ONE)];
    store.codes.issue(&key, &new_code(hash("111111"), now), now).await.unwrap();
    let later = now + Duration::from_secs(10);
    let Some(within) =
        store.codes.issue_within(&hits, &key, &new_code(hash("222222"), later), later).await.unwrap()
    else {
        assert_eq!(store.limiter.hit(&spent, ONE, later).await.unwrap(), RateDecision::Allowed);
        assert_eq!(store.codes.verify(&key, &hash("111111"), later).await.unwrap(), VerifyOutcome::Accepted);
        return;
    };
    assert!(
        matches!(within, Within::Counted(IssueOutcome::CoolingDown { retry_after })
            if retry_after <= Duration::from_secs(50) && retry_after >= Duration::from_secs(49)),
        "{within:?}"
    );
    assert!(matches!(store.limiter.hit(&spent, ONE, later).await.unwrap(), RateDecision::Limited { .. }));
    // The earlier code is untouched.
    assert_eq!(store.codes.verify(&key, &hash("111111"), later).await.unwrap(), VerifyOutcome::Accepted);
}

pub async fn concurrent_issues_within_one_budget_issue_no_more_than_it_allows(store: CodesBesideLimits) {
    let (shared, now) = (budget(), instant());
    let keys: Vec<CodeKey> = (0..12).map(|_| key(CodePurpose::SignIn)).collect();
    let tasks: Vec<_> = keys
        .iter()
        .map(|key| {
            let (codes, shared, key) = (Arc::clone(&store.codes), shared.clone(), key.clone());
            tokio::spawn(async move {
                let hits = [(shared.as_str(), ROOMY)];
                codes.issue_within(&hits, &key, &new_code(hash("123456"), now), now).await.unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    if outcomes.iter().all(Option::is_none) {
        return nothing_done(&store, &keys[0], &[(shared.as_str(), ROOMY)]).await;
    }
    let issued = outcomes.iter().filter(|outcome| **outcome == Some(Within::Counted(IssueOutcome::Issued)));
    assert_eq!(issued.count(), 3, "{outcomes:?}");
    let mut found = 0;
    for key in &keys {
        if store.codes.verify(key, &hash("123456"), now).await.unwrap() == VerifyOutcome::Accepted {
            found += 1;
        }
    }
    assert_eq!(found, 3);
}

pub async fn a_code_checked_within_budgets_counts_each_of_them(store: CodesBesideLimits) {
    let (first, second, key, now) = (budget(), budget(), key(CodePurpose::SignIn), instant());
    let hits = [(first.as_str(), ROOMY), (second.as_str(), ONE)];
    store.codes.issue(&key, &new_code(hash("123456"), now), now).await.unwrap();
    let Some(within) = store.codes.verify_within(&hits, &key, &hash("123456"), now).await.unwrap() else {
        // Nothing checked: the code still verifies, and no budget was counted.
        assert_eq!(store.codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
        return nothing_done(&store, &key, &hits).await;
    };
    assert_eq!(within, Within::Counted(VerifyOutcome::Accepted));
    assert_eq!(store.codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::NotFound);
    assert!(matches!(store.limiter.hit(&second, ONE, now).await.unwrap(), RateDecision::Limited { .. }));
    for _ in 0..2 {
        assert_eq!(store.limiter.hit(&first, ROOMY, now).await.unwrap(), RateDecision::Allowed);
    }
    assert!(matches!(store.limiter.hit(&first, ROOMY, now).await.unwrap(), RateDecision::Limited { .. }));
}

pub async fn a_spent_budget_checks_nothing_and_spends_no_try(store: CodesBesideLimits) {
    let (first, spent, key, now) = (budget(), budget(), key(CodePurpose::SignIn), instant());
    let hits = [(first.as_str(), ROOMY), (spent.as_str(), ONE)];
    store.codes.issue(&key, &new_code(hash("123456"), now), now).await.unwrap();
    assert_eq!(store.limiter.hit(&spent, ONE, now).await.unwrap(), RateDecision::Allowed);
    let within = store.codes.verify_within(&hits, &key, &hash("654321"), now).await.unwrap();
    match within {
        None => {
            // Nothing checked: the wrong guess spent no try.
            assert_eq!(
                store.codes.verify(&key, &hash("654321"), now).await.unwrap(),
                VerifyOutcome::Rejected { attempts_remaining: 4 }
            );
            return nothing_done_to_budget(&store, &first, ROOMY).await;
        }
        Some(Within::Limited(decisions)) => assert!(
            matches!(decisions.as_slice(), [RateDecision::Allowed, RateDecision::Limited { retry_after }]
                if !retry_after.is_zero()),
            "{decisions:?}"
        ),
        Some(other) => panic!("expected a limit, got {other:?}"),
    }
    // The wrong guess was not evaluated: the first wrong try is still to come.
    assert_eq!(
        store.codes.verify(&key, &hash("654321"), now).await.unwrap(),
        VerifyOutcome::Rejected { attempts_remaining: 4 }
    );
    for _ in 0..2 {
        assert_eq!(store.limiter.hit(&first, ROOMY, now).await.unwrap(), RateDecision::Allowed);
    }
    assert!(matches!(store.limiter.hit(&first, ROOMY, now).await.unwrap(), RateDecision::Limited { .. }));
}

/// Asserts that `budget` still has all its room.
async fn nothing_done_to_budget(store: &CodesBesideLimits, budget: &str, limit: RateLimit) {
    for _ in 0..limit.max {
        assert_eq!(store.limiter.hit(budget, limit, instant()).await.unwrap(), RateDecision::Allowed);
    }
}
