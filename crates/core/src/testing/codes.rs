//! Contract of [`CodeStore`].

use std::sync::Arc;
use std::time::Duration;

use super::{instant, unique_email};
use crate::OtpCode;
use crate::crypto::{CodeHash, KeyedHasher};
use crate::domain::CodePurpose;
use crate::ports::{CodeKey, CodeStore, IssueOutcome, NewCode, VerifyOutcome};

type Store = Arc<dyn CodeStore>;

const TTL: Duration = Duration::from_secs(300);
const COOLDOWN: Duration = Duration::from_secs(60);

pub(super) fn key(purpose: CodePurpose) -> CodeKey {
    CodeKey { purpose, subject: KeyedHasher::new(&[5; 32]).unwrap().email_digest(&unique_email()) }
}

pub(super) fn hash(digits: &str) -> CodeHash {
    let code = OtpCode::parse(digits, 6).unwrap();
    let email = crate::EmailAddress::parse("contract@example.com").unwrap();
    KeyedHasher::new(&[5; 32]).unwrap().code_hash(CodePurpose::SignIn, &email, &code)
}

pub(super) fn new_code(code: CodeHash, now: time::OffsetDateTime) -> NewCode {
    NewCode { hash: code, expires_at: now + TTL, max_attempts: 5, cooldown: COOLDOWN }
}

pub async fn an_issued_code_verifies_once(store: Store) {
    let (key, now, right) = (key(CodePurpose::SignIn), instant(), hash("123456"));
    assert_eq!(store.issue(&key, &new_code(right, now), now).await.unwrap(), IssueOutcome::Issued);
    assert_eq!(store.verify(&key, &right, now).await.unwrap(), VerifyOutcome::Accepted);
    assert_eq!(store.verify(&key, &right, now).await.unwrap(), VerifyOutcome::NotFound);
}

pub async fn wrong_codes_spend_attempts_until_the_code_dies(store: Store) {
    let (key, now, right, wrong) = (key(CodePurpose::SignIn), instant(), hash("123456"), hash("654321"));
    store.issue(&key, &new_code(right, now), now).await.unwrap();
    for left in (0..5).rev() {
        let outcome = store.verify(&key, &wrong, now).await.unwrap();
        assert_eq!(outcome, VerifyOutcome::Rejected { attempts_remaining: left });
    }
    assert_eq!(store.verify(&key, &right, now).await.unwrap(), VerifyOutcome::AttemptsExceeded);
}

pub async fn expired_codes_are_refused(store: Store) {
    let (key, now, right) = (key(CodePurpose::SignIn), instant(), hash("123456"));
    store.issue(&key, &new_code(right, now), now).await.unwrap();
    let outcome = store.verify(&key, &right, now + TTL).await.unwrap();
    assert!(matches!(outcome, VerifyOutcome::Expired | VerifyOutcome::NotFound), "{outcome:?}");
}

pub async fn a_cooldown_blocks_reissue_until_it_passes(store: Store) {
    let (key, now) = (key(CodePurpose::SignIn), instant());
    store.issue(&key, &new_code(hash("111111"), now), now).await.unwrap();
    let soon = now + Duration::from_secs(20);
    let outcome = store.issue(&key, &new_code(hash("222222"), soon), soon).await.unwrap();
    let IssueOutcome::CoolingDown { retry_after } = outcome else {
        panic!("expected a cooldown, got {outcome:?}")
    };
    assert!(
        retry_after <= Duration::from_secs(40) && retry_after >= Duration::from_secs(39),
        "{retry_after:?}"
    );
    assert_eq!(store.verify(&key, &hash("111111"), soon).await.unwrap(), VerifyOutcome::Accepted);
    let later = now + COOLDOWN;
    assert_eq!(
        store.issue(&key, &new_code(hash("333333"), later), later).await.unwrap(),
        IssueOutcome::Issued
    );
}

pub async fn a_reissued_code_replaces_the_old_one(store: Store) {
    let (key, now) = (key(CodePurpose::SignIn), instant());
    store.issue(&key, &new_code(hash("111111"), now), now).await.unwrap();
    store.verify(&key, &hash("999999"), now).await.unwrap();
    let later = now + COOLDOWN;
    store.issue(&key, &new_code(hash("222222"), later), later).await.unwrap();
    assert_eq!(
        store.verify(&key, &hash("111111"), later).await.unwrap(),
        VerifyOutcome::Rejected { attempts_remaining: 4 },
        "a new code starts with a full set of tries and the old digits are wrong"
    );
    assert_eq!(store.verify(&key, &hash("222222"), later).await.unwrap(), VerifyOutcome::Accepted);
}

pub async fn keys_are_independent(store: Store) {
    let now = instant();
    let (sign_in, reset) = (
        key(CodePurpose::SignIn),
        CodeKey { purpose: CodePurpose::PasswordReset, ..key(CodePurpose::SignIn) },
    );
    let reset = CodeKey { subject: sign_in.subject.clone(), ..reset };
    store.issue(&sign_in, &new_code(hash("111111"), now), now).await.unwrap();
    assert_eq!(store.issue(&reset, &new_code(hash("222222"), now), now).await.unwrap(), IssueOutcome::Issued);
    assert_eq!(
        store.verify(&reset, &hash("111111"), now).await.unwrap(),
        VerifyOutcome::Rejected { attempts_remaining: 4 }
    );
    assert_eq!(store.verify(&sign_in, &hash("111111"), now).await.unwrap(), VerifyOutcome::Accepted);
    assert_eq!(
        store.verify(&key(CodePurpose::SignIn), &hash("111111"), now).await.unwrap(),
        VerifyOutcome::NotFound
    );
}

pub async fn of_concurrent_right_guesses_exactly_one_is_accepted(store: Store) {
    let (key, now, right) = (key(CodePurpose::SignIn), instant(), hash("123456"));
    store.issue(&key, &new_code(right, now), now).await.unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (store, key) = (Arc::clone(&store), key.clone());
            tokio::spawn(async move { store.verify(&key, &right, now).await.unwrap() })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        if task.await.unwrap() == VerifyOutcome::Accepted {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
}

pub async fn concurrent_wrong_guesses_are_capped_at_max_attempts(store: Store) {
    let (key, now, right) = (key(CodePurpose::SignIn), instant(), hash("123456"));
    store.issue(&key, &new_code(right, now), now).await.unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let (store, key) = (Arc::clone(&store), key.clone());
            let guess = hash(&format!("{:06}", 200_000 + n));
            tokio::spawn(async move { store.verify(&key, &guess, now).await.unwrap() })
        })
        .collect();
    let mut evaluated = 0;
    for task in tasks {
        match task.await.unwrap() {
            VerifyOutcome::Rejected { .. } => evaluated += 1,
            VerifyOutcome::AttemptsExceeded => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(evaluated, 5);
    assert_eq!(store.verify(&key, &right, now).await.unwrap(), VerifyOutcome::AttemptsExceeded);
}
