//! Contract of [`UserRepository`].

use std::sync::Arc;

use super::{instant, unique_email};
use crate::domain::{PasswordHash, User};
use crate::ports::UserRepository;
use crate::{PortError, UserId};

type Repo = Arc<dyn UserRepository>;

pub async fn created_accounts_are_found_by_id_and_email(repo: Repo) {
    let user =
        User::new_unverified(unique_email(), Some(PasswordHash::from_phc("$argon2id$x".into())), instant());
    repo.create(&user).await.unwrap();
    assert_eq!(repo.find_by_id(user.id).await.unwrap().as_ref(), Some(&user));
    assert_eq!(repo.find_by_email(&user.email).await.unwrap().as_ref(), Some(&user));
}

pub async fn a_second_account_with_the_same_email_is_refused(repo: Repo) {
    let email = unique_email();
    repo.create(&User::new_verified(email.clone(), instant())).await.unwrap();
    let error = repo.create(&User::new_verified(email, instant())).await.unwrap_err();
    assert!(matches!(error, PortError::EmailTaken), "{error:?}");
}

pub async fn concurrent_creates_of_one_email_make_exactly_one_account(repo: Repo) {
    let email = unique_email();
    let attempts = (0..50).map(|_| {
        let repo = Arc::clone(&repo);
        let user = User::new_unverified(email.clone(), None, instant());
        tokio::spawn(async move { repo.create(&user).await })
    });
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => created += 1,
            Err(PortError::EmailTaken) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(created, 1);
    assert!(repo.find_by_email(&email).await.unwrap().is_some());
}

pub async fn set_password_replaces_the_hash(repo: Repo) {
    let start = instant();
    let user = User::new_unverified(unique_email(), None, start);
    repo.create(&user).await.unwrap();
    let hash = PasswordHash::from_phc("$argon2id$new".into());
    let later = start + time::Duration::seconds(5);
    assert!(repo.set_password(user.id, Some(&hash), later).await.unwrap());
    let stored = repo.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, Some(hash.clone()));
    assert_eq!(stored.updated_at, later);
    assert!(!repo.set_password(UserId::generate(), Some(&hash), later).await.unwrap());
    assert!(repo.set_password(user.id, None, later).await.unwrap());
    assert_eq!(repo.find_by_id(user.id).await.unwrap().unwrap().password_hash, None, "None removes it");
}

pub async fn recording_a_code_check_keeps_the_first_verification_time(repo: Repo) {
    let start = instant();
    let user = User::new_unverified(unique_email(), None, start);
    repo.create(&user).await.unwrap();
    let first = start + time::Duration::seconds(10);
    let updated = repo.record_code_verified(user.id, first).await.unwrap().unwrap();
    assert_eq!((updated.email_verified_at, updated.last_code_verified_at), (Some(first), Some(first)));
    let second = first + time::Duration::hours(2);
    let updated = repo.record_code_verified(user.id, second).await.unwrap().unwrap();
    assert_eq!((updated.email_verified_at, updated.last_code_verified_at), (Some(first), Some(second)));
    assert_eq!(repo.find_by_id(user.id).await.unwrap(), Some(updated));
    assert!(repo.record_code_verified(UserId::generate(), second).await.unwrap().is_none());
}

pub async fn unknown_accounts_are_not_found(repo: Repo) {
    assert!(repo.find_by_id(UserId::generate()).await.unwrap().is_none());
    assert!(repo.find_by_email(&unique_email()).await.unwrap().is_none());
}
