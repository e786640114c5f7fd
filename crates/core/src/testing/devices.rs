//! Contract of [`DeviceRepository`].
//!
//! Every device belongs to an account the suite creates first (see [`WithOwners`]).

use time::Duration;

use super::{WithOwners, instant};
use crate::crypto::KeyedHasher;
use crate::domain::{Device, DeviceId, UserId};
use crate::ports::{ClientStanding, DeviceRepository};

type Devices = WithOwners<dyn DeviceRepository>;

pub(super) fn device(user_id: UserId, created_at: time::OffsetDateTime) -> Device {
    let hasher = KeyedHasher::new(&[9; 32]).unwrap();
    Device {
        id: DeviceId::generate(),
        user_id,
        token_hash: hasher.device_hash("secret"),
        client: hasher.client_fingerprint("203.0.113.7", Some("contract-test/1.0")),
        created_at,
        last_used_at: created_at,
        code_verified_at: Some(created_at),
        revoked_at: None,
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("contract-test/1.0".into()),
    }
}

pub async fn created_devices_are_found(devices: Devices) {
    let stored = device(devices.new_owner().await, instant());
    devices.store.create(&stored).await.unwrap();
    assert_eq!(devices.store.find(stored.id).await.unwrap(), Some(stored));
    assert_eq!(devices.store.find(DeviceId::generate()).await.unwrap(), None);
}

pub async fn sign_ins_are_recorded_on_active_devices_only(devices: Devices) {
    let repo = &devices.store;
    let owner = devices.new_owner().await;
    let stored = Device { code_verified_at: None, ..device(owner, instant()) };
    repo.create(&stored).await.unwrap();
    let later = instant() + Duration::minutes(5);
    assert!(repo.record_sign_in(stored.id, later, false).await.unwrap());
    let found = repo.find(stored.id).await.unwrap().unwrap();
    assert_eq!((found.last_used_at, found.code_verified_at), (later, None));
    let latest = later + Duration::minutes(5);
    assert!(repo.record_sign_in(stored.id, latest, true).await.unwrap());
    assert_eq!(repo.find(stored.id).await.unwrap().unwrap().code_verified_at, Some(latest));
    assert!(repo.revoke(owner, stored.id, latest).await.unwrap());
    assert!(!repo.record_sign_in(stored.id, latest + Duration::minutes(1), true).await.unwrap());
    assert!(!repo.record_sign_in(DeviceId::generate(), latest, true).await.unwrap());
}

pub async fn only_the_owner_revokes_a_device_once(devices: Devices) {
    let repo = &devices.store;
    let owners = devices.new_owners(2).await;
    let stored = device(owners[0], instant());
    repo.create(&stored).await.unwrap();
    let now = instant() + Duration::minutes(1);
    assert!(!repo.revoke(owners[1], stored.id, now).await.unwrap(), "another user's device");
    assert!(repo.revoke(owners[0], stored.id, now).await.unwrap());
    assert!(!repo.revoke(owners[0], stored.id, now + Duration::minutes(1)).await.unwrap());
    assert_eq!(repo.find(stored.id).await.unwrap().unwrap().revoked_at, Some(now));
}

pub async fn active_devices_are_listed_newest_first(devices: Devices) {
    let repo = &devices.store;
    let owners = devices.new_owners(2).await;
    let (older, newer) = (device(owners[0], instant()), device(owners[0], instant() + Duration::minutes(1)));
    let (revoked, others) = (device(owners[0], instant()), device(owners[1], instant()));
    for stored in [&older, &newer, &revoked, &others] {
        repo.create(stored).await.unwrap();
    }
    repo.revoke(owners[0], revoked.id, instant()).await.unwrap();
    assert_eq!(repo.list_active(owners[0]).await.unwrap(), vec![newer, older]);
}

pub async fn a_clients_standing_counts_its_own_active_devices_only(devices: Devices) {
    let repo = &devices.store;
    let owners = devices.new_owners(2).await;
    let hasher = KeyedHasher::new(&[9; 32]).unwrap();
    let client = |agent: &str| hasher.client_fingerprint("203.0.113.7", Some(agent));
    let (this, unchecked, revoked, elsewhere) =
        (client("this"), client("unchecked"), client("revoked"), client("elsewhere"));
    let start = instant();
    let after = start + Duration::seconds(1);
    assert_eq!(
        repo.client_standing(owners[0], &this, start).await.unwrap(),
        ClientStanding::default(),
        "no device yet"
    );

    let checked = Device { client: this.clone(), ..device(owners[0], start) };
    let never_checked =
        Device { client: unchecked.clone(), code_verified_at: None, ..device(owners[0], start) };
    let forgotten = Device { client: revoked.clone(), ..device(owners[0], start) };
    let others = Device { client: elsewhere.clone(), ..device(owners[1], start) };
    for stored in [&checked, &never_checked, &forgotten, &others] {
        repo.create(stored).await.unwrap();
    }
    repo.revoke(owners[0], forgotten.id, start).await.unwrap();

    let all = ClientStanding { has_devices: true, known: true, code_checked: true };
    assert_eq!(
        repo.client_standing(owners[0], &this, start).await.unwrap(),
        all,
        "checked at the cut-off counts"
    );
    let known = ClientStanding { code_checked: false, ..all };
    assert_eq!(
        repo.client_standing(owners[0], &this, after).await.unwrap(),
        known,
        "a check before the cut-off does not"
    );
    assert_eq!(repo.client_standing(owners[0], &unchecked, start).await.unwrap(), known, "never checked");
    let stranger = ClientStanding { has_devices: true, ..ClientStanding::default() };
    assert_eq!(
        repo.client_standing(owners[0], &revoked, start).await.unwrap(),
        stranger,
        "a forgotten device is no device"
    );
    assert_eq!(
        repo.client_standing(owners[0], &elsewhere, start).await.unwrap(),
        stranger,
        "another account's device"
    );
    assert_eq!(
        repo.client_standing(owners[1], &this, start).await.unwrap(),
        stranger,
        "nor is this account's to the other"
    );
}

pub async fn a_new_device_past_the_limit_forgets_unchecked_then_least_recently_used(devices: Devices) {
    let repo = &devices.store;
    let owners = devices.new_owners(2).await;
    let start = instant();
    let at = |minutes| start + Duration::minutes(minutes);
    let checks_count_since = at(0);
    // Checked long ago but used lately; never checked; checked recently but idle.
    let stale_check =
        Device { code_verified_at: Some(at(-60)), last_used_at: at(5), ..device(owners[0], at(-60)) };
    let unchecked = Device { code_verified_at: None, ..device(owners[0], at(1)) };
    let fresh_check = device(owners[0], at(0));
    let revoked = device(owners[0], at(-90));
    let others = device(owners[1], at(-90));
    for stored in [&stale_check, &unchecked, &fresh_check, &revoked, &others] {
        repo.create(stored).await.unwrap();
    }
    repo.revoke(owners[0], revoked.id, at(0)).await.unwrap();

    let fourth = Device { code_verified_at: None, ..device(owners[0], at(6)) };
    assert!(repo.create_within_limit(&fourth, 4, checks_count_since).await.unwrap().is_empty(), "four fit");
    let fifth = Device { code_verified_at: None, ..device(owners[0], at(7)) };
    let forgotten = repo.create_within_limit(&fifth, 4, checks_count_since).await.unwrap();
    assert_eq!(forgotten, [unchecked.id], "an unchecked device goes before a used one and a checked one");
    let sixth = Device { code_verified_at: None, ..device(owners[0], at(8)) };
    let mut forgotten = repo.create_within_limit(&sixth, 2, checks_count_since).await.unwrap();
    forgotten.sort();
    let mut expected = [stale_check.id, fourth.id, fifth.id];
    expected.sort();
    assert_eq!(forgotten, expected, "a device whose code check still counts stays while others can go");
    let listed: Vec<_> = repo.list_active(owners[0]).await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(listed, [sixth.id, fresh_check.id], "the new one always stays");
    assert_eq!(repo.find(fifth.id).await.unwrap().unwrap().revoked_at, Some(at(8)), "forgotten when it came");
    let alone = Device { code_verified_at: None, ..device(owners[0], at(9)) };
    let forgotten = repo.create_within_limit(&alone, 0, checks_count_since).await.unwrap();
    assert_eq!(forgotten.len(), 2, "a limit of zero counts as one");
    assert_eq!(repo.list_active(owners[1]).await.unwrap(), [others], "another account's are left alone");
    assert_eq!(repo.find(revoked.id).await.unwrap().unwrap().revoked_at, Some(at(0)), "keeps its time");
}

pub async fn devices_forgotten_before_the_cutoff_are_purged_in_batches(devices: Devices) {
    let repo = &devices.store;
    let owner = devices.new_owner().await;
    // Far enough in the past that no other case's rows are older, should the store be
    // shared.
    let start = instant() - Duration::days(400);
    let cutoff = start + Duration::days(100);
    let forgotten = |at| Device { revoked_at: Some(at), ..device(owner, start) };
    let (first, second) = (forgotten(start), forgotten(cutoff - Duration::seconds(1)));
    let (at_cutoff, remembered) = (forgotten(cutoff), device(owner, start));
    for stored in [&first, &second, &at_cutoff, &remembered] {
        repo.create(stored).await.unwrap();
    }
    assert_eq!(repo.purge_forgotten(cutoff, 1).await.unwrap(), 1, "at most the limit");
    assert_eq!(repo.purge_forgotten(cutoff, 10).await.unwrap(), 1, "then the rest");
    assert_eq!(repo.purge_forgotten(cutoff, 10).await.unwrap(), 0, "then none");
    for gone in [&first, &second] {
        assert_eq!(repo.find(gone.id).await.unwrap(), None);
    }
    for kept in [&at_cutoff, &remembered] {
        assert_eq!(repo.find(kept.id).await.unwrap().as_ref(), Some(kept));
    }
}
