//! Contract of [`UserRepository`].

use std::sync::Arc;

use super::{AccountStorage, instant, unique_email};
use crate::crypto::KeyedHasher;
use crate::domain::{
    AuthMethod, Device, DeviceId, Locale, PasswordHash, RegistrationBinding, Role, Session, User,
};
use crate::ports::{UserListQuery, UserRepository};
use crate::{EmailAddress, PortError, SessionId, UserId};

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

fn binding(token: &str) -> RegistrationBinding {
    let hasher = KeyedHasher::new(&[9; 32]).unwrap();
    RegistrationBinding {
        token_hash: hasher.registration_hash(token),
        client: hasher.client_fingerprint("203.0.113.5", Some("agent")),
        expires_at: time::OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap(),
    }
}

fn hash(text: &str) -> PasswordHash {
    PasswordHash::from_phc(format!("$argon2id${text}"))
}

pub async fn registration_bindings_are_stored_and_cleared_by_set_password(repo: Repo) {
    let user = User {
        registration: Some(binding("a")),
        ..User::new_unverified(unique_email(), Some(hash("a")), instant())
    };
    repo.create(&user).await.unwrap();
    assert_eq!(repo.find_by_id(user.id).await.unwrap().unwrap().registration, Some(binding("a")));
    let later = instant() + time::Duration::seconds(5);
    assert!(repo.register_password(user.id, &hash("b"), &binding("b"), later).await.unwrap());
    let stored = repo.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.password_hash, stored.registration, stored.updated_at),
        (Some(hash("b")), Some(binding("b")), later)
    );
    assert!(repo.set_password(user.id, Some(&hash("c")), later).await.unwrap());
    assert_eq!(repo.find_by_id(user.id).await.unwrap().unwrap().registration, None);
    assert!(!repo.register_password(UserId::generate(), &hash("b"), &binding("b"), later).await.unwrap());
}

pub async fn registration_never_touches_a_verified_account(repo: Repo) {
    let user = User { password_hash: Some(hash("owner")), ..User::new_verified(unique_email(), instant()) };
    repo.create(&user).await.unwrap();
    let later = instant() + time::Duration::seconds(5);
    assert!(!repo.register_password(user.id, &hash("stranger"), &binding("s"), later).await.unwrap());
    assert!(!repo.abandon_registration(user.id, later).await.unwrap());
    let signed_in = repo.record_code_sign_in(user.id, later, None).await.unwrap().unwrap();
    assert_eq!(signed_in.password_hash, Some(hash("owner")), "a verified account keeps its password");
    assert_eq!(repo.find_by_id(user.id).await.unwrap().unwrap().password_hash, Some(hash("owner")));
}

pub async fn abandoning_a_registration_drops_its_password(repo: Repo) {
    let user = User {
        registration: Some(binding("a")),
        ..User::new_unverified(unique_email(), Some(hash("a")), instant())
    };
    repo.create(&user).await.unwrap();
    let later = instant() + time::Duration::seconds(5);
    assert!(repo.abandon_registration(user.id, later).await.unwrap());
    let stored = repo.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!((stored.password_hash, stored.registration, stored.email_verified_at), (None, None, None));
}

pub async fn a_code_sign_in_keeps_the_password_only_for_the_registrant(repo: Repo) {
    let later = instant() + time::Duration::seconds(5);
    for (presented, kept) in [(Some("a"), true), (Some("other"), false), (None, false)] {
        let user = User {
            registration: Some(binding("a")),
            ..User::new_unverified(unique_email(), Some(hash("a")), instant())
        };
        repo.create(&user).await.unwrap();
        let registrant = presented.map(|token| binding(token).token_hash);
        let signed_in = repo.record_code_sign_in(user.id, later, registrant.as_ref()).await.unwrap().unwrap();
        assert_eq!(signed_in.password_hash.is_some(), kept, "{presented:?}");
        assert_eq!(
            (signed_in.registration.clone(), signed_in.email_verified_at, signed_in.last_code_verified_at),
            (None, Some(later), Some(later))
        );
        assert_eq!(repo.find_by_id(user.id).await.unwrap(), Some(signed_in));
    }
    assert!(repo.record_code_sign_in(UserId::generate(), later, None).await.unwrap().is_none());
}

pub async fn unknown_accounts_are_not_found(repo: Repo) {
    assert!(repo.find_by_id(UserId::generate()).await.unwrap().is_none());
    assert!(repo.find_by_email(&unique_email()).await.unwrap().is_none());
}

/// Accounts whose addresses carry `token`, created one after another (ids ascend).
async fn accounts_with(repo: &Repo, token: &str, locals: &[&str]) -> Vec<User> {
    let mut created = Vec::new();
    for local in locals {
        let email = crate::EmailAddress::parse(&format!("{local}.{token}@example.com")).unwrap();
        let user = User::new_verified(email, instant());
        repo.create(&user).await.unwrap();
        created.push(user);
    }
    created
}

fn search(text: &str, before: Option<UserId>, limit: usize) -> UserListQuery {
    UserListQuery { email_contains: Some(text.to_owned()), before, limit }
}

pub async fn listing_pages_through_accounts_newest_first(repo: Repo) {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let created = accounts_with(&repo, &token, &["a", "b", "c", "d", "e"]).await;
    let newest_first: Vec<User> = created.iter().rev().cloned().collect();

    let first = repo.list(&search(&token, None, 2)).await.unwrap();
    assert_eq!(first, newest_first[..2]);
    let second = repo.list(&search(&token, Some(first[1].id), 2)).await.unwrap();
    assert_eq!(second, newest_first[2..4]);
    let last = repo.list(&search(&token, Some(second[1].id), 2)).await.unwrap();
    assert_eq!(last, newest_first[4..]);
    assert!(repo.list(&search(&token, Some(last[0].id), 2)).await.unwrap().is_empty());

    let everyone =
        repo.list(&UserListQuery { email_contains: None, before: None, limit: 10_000 }).await.unwrap();
    assert!(everyone.windows(2).all(|pair| pair[0].id > pair[1].id), "descending ids");
    let ours: Vec<&User> = everyone.iter().filter(|user| user.email.as_str().contains(&token)).collect();
    assert_eq!(ours, newest_first.iter().collect::<Vec<_>>());
    assert!(
        repo.list(&UserListQuery { email_contains: None, before: None, limit: 0 }).await.unwrap().is_empty()
    );
}

pub async fn searching_matches_a_literal_text_in_any_case(repo: Repo) {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let created = accounts_with(&repo, &token, &["ann_lee", "annxlee", "bob"]).await;
    let found = repo.list(&search(&format!("ANN_LEE.{}", token.to_uppercase()), None, 10)).await.unwrap();
    assert_eq!(found, [created[0].clone()], "`_` is a plain character and case does not matter");
    let found = repo.list(&search(&format!("lee.{token}"), None, 10)).await.unwrap();
    assert_eq!(found, [created[1].clone(), created[0].clone()]);
    assert!(repo.list(&search(&format!("%.{token}"), None, 10)).await.unwrap().is_empty(), "`%` is literal");
    assert!(
        repo.list(&search(&format!(r"\.{token}"), None, 10)).await.unwrap().is_empty(),
        r"`\` is literal"
    );
}

pub async fn disabling_and_roles_are_stored(repo: Repo) {
    let start = instant();
    let user = User::new_verified(unique_email(), start);
    repo.create(&user).await.unwrap();
    assert_eq!((user.disabled, user.role), (false, Role::User));

    let later = start + time::Duration::seconds(3);
    let disabled = repo.set_disabled(user.id, true, later).await.unwrap().unwrap();
    assert_eq!((disabled.disabled, disabled.updated_at), (true, later));
    assert_eq!(repo.find_by_id(user.id).await.unwrap().as_ref(), Some(&disabled));
    let enabled = repo.set_disabled(user.id, false, later).await.unwrap().unwrap();
    assert!(!enabled.disabled);

    let admin = repo.set_role(user.id, Role::Admin, later).await.unwrap().unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(repo.find_by_email(&user.email).await.unwrap().unwrap().role, Role::Admin);
    let demoted = repo.set_role(user.id, Role::User, later).await.unwrap().unwrap();
    assert_eq!(demoted, User { updated_at: later, ..user.clone() }, "nothing else changed");

    assert!(repo.set_disabled(UserId::generate(), true, later).await.unwrap().is_none());
    assert!(repo.set_role(UserId::generate(), Role::Admin, later).await.unwrap().is_none());
}

pub async fn locales_are_stored_and_cleared(repo: Repo) {
    let start = instant();
    let french = Locale::parse("fr-CA").unwrap();
    let chosen = User { locale: Some(french.clone()), ..User::new_verified(unique_email(), start) };
    repo.create(&chosen).await.unwrap();
    assert_eq!(repo.find_by_email(&chosen.email).await.unwrap().unwrap().locale, Some(french));

    let later = start + time::Duration::seconds(2);
    let german = Locale::parse("de").unwrap();
    let updated = repo.set_locale(chosen.id, Some(&german), later).await.unwrap().unwrap();
    assert_eq!(
        updated,
        User { locale: Some(german), updated_at: later, ..chosen.clone() },
        "nothing else changed"
    );
    assert_eq!(repo.find_by_id(chosen.id).await.unwrap(), Some(updated));
    let cleared = repo.set_locale(chosen.id, None, later).await.unwrap().unwrap();
    assert_eq!(cleared.locale, None);
    assert!(repo.set_locale(UserId::generate(), None, later).await.unwrap().is_none());
}

pub async fn created_roles_are_kept(repo: Repo) {
    let user = User { role: Role::Admin, disabled: true, ..User::new_verified(unique_email(), instant()) };
    repo.create(&user).await.unwrap();
    assert_eq!(repo.find_by_id(user.id).await.unwrap(), Some(user));
}

pub async fn deleting_an_account_frees_its_address(repo: Repo) {
    let user = User::new_verified(unique_email(), instant());
    let kept = User::new_verified(unique_email(), instant());
    repo.create(&user).await.unwrap();
    repo.create(&kept).await.unwrap();
    assert!(repo.delete(user.id).await.unwrap());
    assert!(repo.find_by_id(user.id).await.unwrap().is_none());
    assert!(repo.find_by_email(&user.email).await.unwrap().is_none());
    assert!(!repo.delete(user.id).await.unwrap(), "already gone");
    assert_eq!(repo.find_by_id(kept.id).await.unwrap(), Some(kept));
    let token = user.email.as_str().split('@').next().unwrap().to_owned();
    assert!(repo.list(&search(&token, None, 10)).await.unwrap().is_empty());

    let again = User::new_verified(user.email.clone(), instant());
    repo.create(&again).await.unwrap();
    assert_eq!(repo.find_by_email(&user.email).await.unwrap().unwrap().id, again.id);
}

pub async fn changing_the_address_moves_it_and_refuses_a_taken_one(repo: Repo) {
    let earlier = instant();
    let user = User::new_verified(unique_email(), earlier);
    let other = User::new_verified(unique_email(), earlier);
    repo.create(&user).await.unwrap();
    repo.create(&other).await.unwrap();
    let error = repo.change_email(user.id, &other.email, instant()).await.unwrap_err();
    assert!(matches!(error, PortError::EmailTaken), "{error:?}");
    assert_eq!(repo.find_by_id(user.id).await.unwrap().unwrap().email, user.email, "nothing changed");

    let new = unique_email();
    let later = earlier + time::Duration::seconds(5);
    let changed = repo.change_email(user.id, &new, later).await.unwrap().unwrap();
    assert_eq!(
        (changed.email.clone(), changed.email_verified_at, changed.updated_at),
        (new.clone(), Some(earlier), later)
    );
    assert_eq!(repo.find_by_email(&new).await.unwrap().unwrap().id, user.id);
    assert!(repo.find_by_email(&user.email).await.unwrap().is_none(), "the old address is free");
    assert!(repo.change_email(UserId::generate(), &unique_email(), later).await.unwrap().is_none());

    let unverified = User::new_unverified(unique_email(), None, earlier);
    repo.create(&unverified).await.unwrap();
    let verified = repo.change_email(unverified.id, &unique_email(), later).await.unwrap().unwrap();
    assert_eq!(verified.email_verified_at, Some(later), "a proven new address is verified");
}

/// A new account of `email` as a first passwordless sign-in makes it, with its session
/// and its device.
pub fn first_sign_in(email: EmailAddress) -> (User, Session, Device) {
    let now = instant();
    let user = User::new_verified(email, now);
    let hasher = KeyedHasher::new(&[9; 32]).unwrap();
    let session = Session {
        id: SessionId::generate(),
        user_id: user.id,
        refresh_hash: hasher.token_hash(&uuid::Uuid::new_v4().to_string()),
        created_at: now,
        last_used_at: now,
        expires_at: now + time::Duration::days(30),
        revoked_at: None,
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("contract-test/1.0".into()),
        auth_methods: vec![AuthMethod::Otp],
    };
    let device = Device {
        id: DeviceId::generate(),
        user_id: user.id,
        token_hash: hasher.device_hash(&uuid::Uuid::new_v4().to_string()),
        client: hasher.client_fingerprint("203.0.113.7", Some("contract-test/1.0")),
        created_at: now,
        last_used_at: now,
        code_verified_at: Some(now),
        revoked_at: None,
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("contract-test/1.0".into()),
    };
    (user, session, device)
}

/// Whether the account, the session and the device are stored, each.
async fn stored(storage: &AccountStorage, (user, session, device): &(User, Session, Device)) -> [bool; 3] {
    [
        storage.users.find_by_id(user.id).await.unwrap().is_some(),
        storage.sessions.find(session.id).await.unwrap().is_some(),
        storage.devices.find(device.id).await.unwrap().is_some(),
    ]
}

pub async fn a_first_sign_in_stores_the_account_its_session_and_its_device(storage: AccountStorage) {
    let (user, session, device) = first_sign_in(unique_email());
    storage.users.create_with_first_sign_in(&user, &session, &device).await.unwrap();
    assert_eq!(storage.users.find_by_id(user.id).await.unwrap().as_ref(), Some(&user));
    assert_eq!(storage.users.find_by_email(&user.email).await.unwrap().as_ref(), Some(&user));
    assert_eq!(storage.sessions.find(session.id).await.unwrap().as_ref(), Some(&session));
    assert_eq!(storage.sessions.list_active(user.id, instant()).await.unwrap(), [session]);
    assert_eq!(storage.devices.find(device.id).await.unwrap().as_ref(), Some(&device));
    assert_eq!(storage.devices.list_active(user.id).await.unwrap(), [device]);
}

pub async fn a_first_sign_in_of_a_taken_address_stores_none_of_the_three(storage: AccountStorage) {
    let owner = User::new_verified(unique_email(), instant());
    storage.users.create(&owner).await.unwrap();
    let late = first_sign_in(owner.email.clone());
    let error = storage.users.create_with_first_sign_in(&late.0, &late.1, &late.2).await.unwrap_err();
    assert!(matches!(error, PortError::EmailTaken), "{error:?}");
    assert_eq!(stored(&storage, &late).await, [false; 3]);
    assert_eq!(storage.users.find_by_email(&owner.email).await.unwrap(), Some(owner.clone()));

    let taken = first_sign_in(unique_email());
    storage.users.create_with_first_sign_in(&taken.0, &taken.1, &taken.2).await.unwrap();
    let again = first_sign_in(taken.0.email.clone());
    let error = storage.users.create_with_first_sign_in(&again.0, &again.1, &again.2).await.unwrap_err();
    assert!(matches!(error, PortError::EmailTaken), "{error:?}");
    assert_eq!(stored(&storage, &again).await, [false; 3]);
    assert_eq!(stored(&storage, &taken).await, [true; 3], "the first one is untouched");
}

pub async fn of_concurrent_first_sign_ins_of_one_address_exactly_one_is_stored(storage: AccountStorage) {
    let email = unique_email();
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let attempt = first_sign_in(email.clone());
            let users = Arc::clone(&storage.users);
            let (user, session, device) = attempt.clone();
            let call =
                tokio::spawn(async move { users.create_with_first_sign_in(&user, &session, &device).await });
            (attempt, call)
        })
        .collect();
    let mut winners = Vec::new();
    for (attempt, call) in attempts {
        match call.await.unwrap() {
            Ok(()) => winners.push(attempt),
            Err(PortError::EmailTaken) => assert_eq!(stored(&storage, &attempt).await, [false; 3]),
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(stored(&storage, &winners[0]).await, [true; 3]);
    assert_eq!(storage.users.find_by_email(&email).await.unwrap().map(|user| user.id), Some(winners[0].0.id));
}

/// Concurrent first sign-ins of many addresses, a few of them taken already: each free
/// one is stored whole, each taken one fails alone (an adapter that writes concurrent
/// sign-ins together must not fail the others with it).
pub async fn of_concurrent_first_sign_ins_exactly_those_of_free_addresses_are_stored(
    storage: AccountStorage,
) {
    let mut owners = Vec::new();
    for _ in 0..3 {
        let owner = User::new_verified(unique_email(), instant());
        storage.users.create(&owner).await.unwrap();
        owners.push(owner);
    }
    let attempts: Vec<_> = (0..39)
        .map(|index| {
            let email = match index % 13 {
                0 => owners[index / 13].email.clone(),
                _ => unique_email(),
            };
            let attempt = first_sign_in(email);
            let users = Arc::clone(&storage.users);
            let (user, session, device) = attempt.clone();
            let call =
                tokio::spawn(async move { users.create_with_first_sign_in(&user, &session, &device).await });
            (index, attempt, call)
        })
        .collect();
    for (index, attempt, call) in attempts {
        match (index % 13, call.await.unwrap()) {
            (0, Err(PortError::EmailTaken)) => assert_eq!(stored(&storage, &attempt).await, [false; 3]),
            (0, other) => panic!("sign-in {index} of a taken address: {other:?}"),
            (_, Ok(())) => assert_eq!(stored(&storage, &attempt).await, [true; 3], "sign-in {index}"),
            (_, Err(error)) => panic!("sign-in {index} of a free address: {error:?}"),
        }
    }
}
