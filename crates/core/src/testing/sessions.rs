//! Contract of [`SessionRepository`].
//!
//! Every session belongs to an account the suite creates first (see [`WithOwners`]).

use std::sync::Arc;

use time::Duration;

use super::{WithOwners, instant};
use crate::crypto::{KeyedHasher, TokenHash};
use crate::domain::{AuthMethod, Session};
use crate::ports::{RETIRED_REFRESH_HASHES, RotateOutcome, SessionRepository};
use crate::{SessionId, UserId};

type Sessions = WithOwners<dyn SessionRepository>;

fn hash(text: &str) -> TokenHash {
    KeyedHasher::new(&[9; 32]).unwrap().token_hash(text)
}

pub(super) fn session(user_id: UserId, created_at: time::OffsetDateTime) -> Session {
    Session {
        id: SessionId::generate(),
        user_id,
        refresh_hash: hash("first"),
        created_at,
        last_used_at: created_at,
        expires_at: created_at + Duration::days(30),
        revoked_at: None,
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("contract-test/1.0".into()),
        auth_methods: vec![AuthMethod::Password, AuthMethod::Otp, AuthMethod::OAuth("google".into())],
    }
}

pub async fn created_sessions_are_found(sessions: Sessions) {
    let repo = &sessions.store;
    let stored = session(sessions.new_owner().await, instant());
    repo.create(&stored).await.unwrap();
    assert_eq!(repo.find(stored.id).await.unwrap(), Some(stored));
    assert_eq!(repo.find(SessionId::generate()).await.unwrap(), None);
}

pub async fn rotating_with_the_current_hash_replaces_it(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let stored = session(sessions.new_owner().await, start);
    repo.create(&stored).await.unwrap();
    let later = start + Duration::minutes(5);
    let expires = later + Duration::days(30);
    let outcome =
        repo.rotate_refresh(stored.id, &hash("first"), &hash("second"), later, expires).await.unwrap();
    let RotateOutcome::Rotated(rotated) = outcome else { panic!("expected a rotation, got {outcome:?}") };
    assert_eq!(
        (rotated.refresh_hash, rotated.last_used_at, rotated.expires_at),
        (hash("second"), later, expires)
    );
    assert_eq!(repo.find(stored.id).await.unwrap(), Some(rotated));
}

pub async fn rotating_with_a_stale_hash_revokes_the_session(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let stored = session(sessions.new_owner().await, start);
    repo.create(&stored).await.unwrap();
    let expires = start + Duration::days(30);
    repo.rotate_refresh(stored.id, &hash("first"), &hash("second"), start, expires).await.unwrap();
    let reuse = repo.rotate_refresh(stored.id, &hash("first"), &hash("third"), start, expires).await.unwrap();
    assert_eq!(reuse, RotateOutcome::ReuseDetected);
    let after =
        repo.rotate_refresh(stored.id, &hash("second"), &hash("fourth"), start, expires).await.unwrap();
    assert_eq!(after, RotateOutcome::Inactive);
    assert!(repo.find(stored.id).await.unwrap().unwrap().revoked_at.is_some());
}

pub async fn a_hash_the_session_never_held_changes_nothing(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let stored = session(sessions.new_owner().await, start);
    repo.create(&stored).await.unwrap();
    let expires = start + Duration::days(30);
    let forged = repo.rotate_refresh(stored.id, &hash("forged"), &hash("x"), start, expires).await.unwrap();
    assert_eq!(forged, RotateOutcome::Unrecognised);
    assert_eq!(repo.find(stored.id).await.unwrap(), Some(stored.clone()), "the session is untouched");
    let real = repo.rotate_refresh(stored.id, &hash("first"), &hash("second"), start, expires).await.unwrap();
    assert!(matches!(real, RotateOutcome::Rotated(_)), "{real:?}");
    let forged = repo.rotate_refresh(stored.id, &hash("forged"), &hash("y"), start, expires).await.unwrap();
    assert_eq!(forged, RotateOutcome::Unrecognised, "after a rotation too");
    assert!(repo.find(stored.id).await.unwrap().unwrap().revoked_at.is_none());
}

pub async fn every_remembered_retired_hash_is_recognised_as_reuse(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let owner = sessions.new_owner().await;
    let expires = start + Duration::days(30);
    // For each age up to the bound: rotate that many times, then present the hash that
    // was current `age` rotations ago.
    for age in [1, 2, RETIRED_REFRESH_HASHES] {
        let stored = session(owner, start);
        repo.create(&stored).await.unwrap();
        let mut current = hash("first");
        for n in 0..age {
            let next = hash(&format!("rotation-{n}"));
            let outcome = repo.rotate_refresh(stored.id, &current, &next, start, expires).await.unwrap();
            assert!(matches!(outcome, RotateOutcome::Rotated(_)), "{outcome:?}");
            current = next;
        }
        let reuse = repo.rotate_refresh(stored.id, &hash("first"), &hash("z"), start, expires).await.unwrap();
        assert_eq!(reuse, RotateOutcome::ReuseDetected, "a hash retired {age} rotations ago");
        assert!(repo.find(stored.id).await.unwrap().unwrap().revoked_at.is_some());
    }
}

pub async fn of_concurrent_rotations_with_one_hash_at_most_one_succeeds(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let stored = session(sessions.new_owner().await, start);
    repo.create(&stored).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let repo = Arc::clone(repo);
            let replacement = hash(&format!("replacement-{n}"));
            tokio::spawn(async move {
                repo.rotate_refresh(stored.id, &hash("first"), &replacement, start, start + Duration::days(1))
                    .await
            })
        })
        .collect();
    let mut rotated = 0;
    for task in tasks {
        if matches!(task.await.unwrap().unwrap(), RotateOutcome::Rotated(_)) {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1);
}

pub async fn expired_sessions_do_not_rotate(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let stored = session(sessions.new_owner().await, start);
    repo.create(&stored).await.unwrap();
    let late = stored.expires_at + Duration::seconds(1);
    let outcome = repo.rotate_refresh(stored.id, &hash("first"), &hash("second"), late, late).await.unwrap();
    assert_eq!(outcome, RotateOutcome::Inactive);
    let unknown = repo
        .rotate_refresh(SessionId::generate(), &hash("first"), &hash("second"), start, late)
        .await
        .unwrap();
    assert_eq!(unknown, RotateOutcome::Inactive);
}

pub async fn revoking_ends_a_session_once(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let stored = session(sessions.new_owner().await, start);
    repo.create(&stored).await.unwrap();
    assert!(repo.revoke(stored.id, start).await.unwrap());
    assert!(!repo.revoke(stored.id, start + Duration::seconds(9)).await.unwrap());
    assert_eq!(repo.find(stored.id).await.unwrap().unwrap().revoked_at, Some(start));
    assert!(!repo.revoke(SessionId::generate(), start).await.unwrap());
}

pub async fn revoking_all_of_a_user_leaves_others_alone(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let (ann, bob) = (sessions.new_owner().await, sessions.new_owner().await);
    for owner in [ann, ann, bob] {
        repo.create(&session(owner, start)).await.unwrap();
    }
    assert_eq!(repo.revoke_all_for_user(ann, start).await.unwrap(), 2);
    assert_eq!(repo.revoke_all_for_user(ann, start).await.unwrap(), 0);
    assert!(repo.list_active(ann, start).await.unwrap().is_empty());
    assert_eq!(repo.list_active(bob, start).await.unwrap().len(), 1);
}

pub async fn active_sessions_are_listed_newest_first(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let user = sessions.new_owner().await;
    let older = session(user, start);
    let newer = session(user, start + Duration::minutes(1));
    let revoked = session(user, start + Duration::minutes(2));
    let expired = Session { expires_at: start, ..session(user, start - Duration::days(40)) };
    for stored in [&older, &newer, &revoked, &expired] {
        repo.create(stored).await.unwrap();
    }
    repo.revoke(revoked.id, start).await.unwrap();
    let listed: Vec<_> = repo
        .list_active(user, start + Duration::minutes(3))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [newer.id, older.id]);
}

pub async fn a_new_session_past_the_limit_ends_the_least_recently_used(sessions: Sessions) {
    let repo = &sessions.store;
    let start = instant();
    let (user, other) = (sessions.new_owner().await, sessions.new_owner().await);
    let at = |minutes| start + Duration::minutes(minutes);
    // Created in this order, but the oldest was used last.
    let used_lately = Session { last_used_at: at(5), ..session(user, at(0)) };
    let (idle, middle) = (session(user, at(1)), session(user, at(2)));
    let revoked = session(user, at(-1));
    let expired = Session { expires_at: at(3), ..session(user, at(-2)) };
    let others = session(other, at(-3));
    for stored in [&used_lately, &idle, &middle, &revoked, &expired, &others] {
        repo.create(stored).await.unwrap();
    }
    repo.revoke(revoked.id, at(0)).await.unwrap();

    let third = session(user, at(6));
    assert!(repo.create_within_limit(&third, 4).await.unwrap().is_empty(), "four fit a limit of four");
    let fourth = session(user, at(7));
    assert_eq!(
        repo.create_within_limit(&fourth, 4).await.unwrap(),
        [idle.id],
        "the least recently used goes"
    );
    let fifth = session(user, at(8));
    let mut ended = repo.create_within_limit(&fifth, 3).await.unwrap();
    ended.sort();
    let mut expected = [middle.id, used_lately.id];
    expected.sort();
    assert_eq!(ended, expected, "as many as it takes");
    assert_eq!(
        repo.find(idle.id).await.unwrap().unwrap().revoked_at,
        Some(at(7)),
        "ended when the new one began"
    );
    let listed: Vec<_> = repo.list_active(user, at(8)).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(listed, [fifth.id, fourth.id, third.id], "the new one always stays");
    let alone = session(user, at(9));
    assert_eq!(repo.create_within_limit(&alone, 0).await.unwrap().len(), 3, "a limit of zero counts as one");
    assert_eq!(repo.find(alone.id).await.unwrap(), Some(alone));
    assert_eq!(repo.list_active(other, at(9)).await.unwrap(), [others], "another account's are left alone");
    assert_eq!(
        repo.find(revoked.id).await.unwrap().unwrap().revoked_at,
        Some(at(0)),
        "ended ones keep their time"
    );
}

pub async fn a_password_reset_sets_the_hash_records_the_check_and_ends_every_session(sessions: Sessions) {
    let (repo, accounts) = (&sessions.store, &sessions.accounts);
    let start = instant();
    let (owner, other) = (sessions.new_owner().await, sessions.new_owner().await);
    let live = [session(owner, start), session(owner, start + Duration::seconds(1))];
    let ended = session(owner, start);
    let others = session(other, start);
    for stored in live.iter().chain([&ended, &others]) {
        repo.create(stored).await.unwrap();
    }
    repo.revoke(ended.id, start).await.unwrap();
    let later = start + Duration::minutes(3);
    let hash = crate::domain::PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());

    assert_eq!(accounts.reset_password(owner, &hash, later).await.unwrap(), Some(2));

    let user = accounts.find_by_id(owner).await.unwrap().unwrap();
    assert_eq!(user.password_hash.as_ref(), Some(&hash));
    assert_eq!((user.last_code_verified_at, user.updated_at), (Some(later), later));
    assert!(user.email_verified_at.is_some_and(|verified| verified <= later));
    for stored in &live {
        assert_eq!(repo.find(stored.id).await.unwrap().unwrap().revoked_at, Some(later));
    }
    assert_eq!(repo.find(ended.id).await.unwrap().unwrap().revoked_at, Some(start), "kept");
    assert!(repo.find(others.id).await.unwrap().unwrap().is_active(later), "other accounts untouched");
    assert_eq!(accounts.reset_password(UserId::generate(), &hash, later).await.unwrap(), None);
}

pub async fn a_password_reset_verifies_an_unverified_address(sessions: Sessions) {
    let accounts = &sessions.accounts;
    let now = instant();
    let user = crate::domain::User::new_unverified(super::unique_email(), None, now);
    accounts.create(&user).await.unwrap();
    let hash = crate::domain::PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    assert_eq!(accounts.reset_password(user.id, &hash, now).await.unwrap(), Some(0));
    let stored = accounts.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!((stored.email_verified_at, stored.last_code_verified_at), (Some(now), Some(now)));
}

/// Far enough in the past that no other case's rows are older, should the store be
/// shared.
fn long_ago() -> time::OffsetDateTime {
    instant() - Duration::days(400)
}

pub async fn sessions_that_ended_before_the_cutoff_are_purged_in_batches(sessions: Sessions) {
    let repo = &sessions.store;
    let owner = sessions.new_owner().await;
    let start = long_ago();
    let cutoff = start + Duration::days(100);
    let live = || Session { expires_at: instant() + Duration::days(30), ..session(owner, start) };
    let revoked_before = Session { revoked_at: Some(cutoff - Duration::seconds(1)), ..live() };
    let expired_before = Session { expires_at: cutoff - Duration::seconds(1), ..live() };
    let revoked_at_cutoff = Session { revoked_at: Some(cutoff), ..live() };
    let expires_after = live();
    for stored in [&revoked_before, &expired_before, &revoked_at_cutoff, &expires_after] {
        repo.create(stored).await.unwrap();
    }
    assert_eq!(repo.purge_ended(cutoff, 1).await.unwrap(), 1, "at most the limit");
    assert_eq!(repo.purge_ended(cutoff, 10).await.unwrap(), 1, "then the rest");
    assert_eq!(repo.purge_ended(cutoff, 10).await.unwrap(), 0, "then none");
    for gone in [&revoked_before, &expired_before] {
        assert_eq!(repo.find(gone.id).await.unwrap(), None);
    }
    for kept in [&revoked_at_cutoff, &expires_after] {
        assert_eq!(repo.find(kept.id).await.unwrap().as_ref(), Some(kept));
    }
    let outcome = repo
        .rotate_refresh(revoked_before.id, &hash("first"), &hash("second"), instant(), instant())
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::Inactive, "a purged session's refresh token is refused");
}
