//! Contract of [`UserRepository::find_by_email_with_standing`]: an account and a
//! client's standing among its devices in one read, checked against what
//! [`DeviceRepository::client_standing`] and [`UserRepository::find_by_email`] answer
//! on the same storage.
//!
//! A store that declines (`Ok(None)`) passes every case: the caller then reads the two
//! apart.
//!
//! [`UserRepository::find_by_email_with_standing`]: crate::ports::UserRepository::find_by_email_with_standing
//! [`UserRepository::find_by_email`]: crate::ports::UserRepository::find_by_email
//! [`DeviceRepository::client_standing`]: crate::ports::DeviceRepository::client_standing

use time::Duration;

use super::{AccountStorage, instant, unique_email};
use crate::crypto::KeyedHasher;
use crate::domain::{Device, EmailAddress, User};
use crate::ports::{AccountStanding, ClientStanding};

fn fingerprint(network: &str) -> String {
    KeyedHasher::new(&[9; 32]).unwrap().client_fingerprint(network, Some("contract-test/1.0"))
}

/// What the store reads for `email` and `client`, checked against the two reads apart
/// when the store offers it.
async fn read(storage: &AccountStorage, email: &EmailAddress, client: &str) -> Option<AccountStanding> {
    let since = instant() - Duration::minutes(15);
    let found = storage.users.find_by_email_with_standing(email, client, since).await.unwrap()?;
    assert_eq!(found.user, storage.users.find_by_email(email).await.unwrap());
    if let Some(user) = &found.user {
        assert_eq!(found.standing, storage.devices.client_standing(user.id, client, since).await.unwrap());
    }
    Some(found)
}

pub async fn an_account_is_read_with_a_clients_standing_among_its_active_devices(storage: AccountStorage) {
    let user = User::new_verified(unique_email(), instant());
    storage.users.create(&user).await.unwrap();
    let now = instant();
    let device = |network: &str, code_checked_at| Device {
        code_verified_at: Some(code_checked_at),
        client: fingerprint(network),
        ..super::devices::device(user.id, now)
    };
    let (recent, stale, forgotten) =
        (device("192.0.2.1", now), device("192.0.2.2", now - Duration::hours(2)), device("192.0.2.3", now));
    for stored in [&recent, &stale, &forgotten] {
        storage.devices.create(stored).await.unwrap();
    }
    assert!(storage.devices.revoke(user.id, forgotten.id, now).await.unwrap());

    let Some(found) = read(&storage, &user.email, &recent.client).await else { return };
    assert_eq!(found.user.as_ref(), Some(&user));
    assert_eq!(found.standing, ClientStanding { has_devices: true, known: true, code_checked: true });
    let found = read(&storage, &user.email, &stale.client).await.unwrap();
    assert_eq!(found.standing, ClientStanding { has_devices: true, known: true, code_checked: false });
    let found = read(&storage, &user.email, &forgotten.client).await.unwrap();
    assert_eq!(found.standing, ClientStanding { has_devices: true, known: false, code_checked: false });
    // Another account's devices never count, whatever their fingerprint.
    let other = User::new_verified(unique_email(), instant());
    storage.users.create(&other).await.unwrap();
    let theirs = Device { user_id: other.id, ..device("192.0.2.9", now) };
    storage.devices.create(&theirs).await.unwrap();
    let found = read(&storage, &user.email, &theirs.client).await.unwrap();
    assert_eq!(found.standing, ClientStanding { has_devices: true, known: false, code_checked: false });
    // A check exactly at the first instant that counts still counts.
    let boundary = device("192.0.2.10", now - Duration::minutes(15));
    storage.devices.create(&boundary).await.unwrap();
    let since = now - Duration::minutes(15);
    let found =
        storage.users.find_by_email_with_standing(&user.email, &boundary.client, since).await.unwrap();
    assert!(found.unwrap().standing.code_checked, "a check at the boundary counts");
    let shouted = EmailAddress::parse(&user.email.as_str().to_uppercase()).unwrap();
    let found = read(&storage, &shouted, &recent.client).await.unwrap();
    assert_eq!(found.user.map(|found| found.id), Some(user.id), "the address in any case");
}

pub async fn an_account_without_devices_and_an_unknown_address_have_no_standing(storage: AccountStorage) {
    let user = User::new_verified(unique_email(), instant());
    storage.users.create(&user).await.unwrap();
    let client = fingerprint("192.0.2.1");
    let Some(found) = read(&storage, &user.email, &client).await else { return };
    assert_eq!(found, AccountStanding { user: Some(user), standing: ClientStanding::default() });
    let nobody = read(&storage, &unique_email(), &client).await.unwrap();
    assert_eq!(nobody, AccountStanding { user: None, standing: ClientStanding::default() });
}
