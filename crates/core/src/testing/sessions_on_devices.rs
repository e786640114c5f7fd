//! Contract of [`SessionRepository::create_on_device`]: a sign-in's session and device
//! in one change, read back through the session and device stores of the same storage.
//!
//! A store that declines (`Ok(None)`) must have changed nothing; every case checks that
//! too, so the suite runs against every adapter.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::sessions::session;
use super::{AccountStorage, instant, unique_email};
use crate::UserId;
use crate::domain::{Device, DeviceId, Session, User};
use crate::error::PortError;
use crate::ports::{DeviceRecorded, DeviceSignIn, OpenedOnDevice};

/// A device of `user_id` created at `created_at`, its code checked then if
/// `code_checked`.
fn device(user_id: UserId, created_at: OffsetDateTime, code_checked: bool) -> Device {
    Device {
        code_verified_at: code_checked.then_some(created_at),
        ..super::devices::device(user_id, created_at)
    }
}

async fn new_account(storage: &AccountStorage) -> UserId {
    let user = User::new_verified(unique_email(), instant());
    storage.users.create(&user).await.unwrap();
    user.id
}

/// Whether the session and the device are stored, each.
async fn stored(storage: &AccountStorage, session: &Session, device: DeviceId) -> [bool; 2] {
    [
        storage.sessions.find(session.id).await.unwrap().is_some(),
        storage.devices.find(device).await.unwrap().is_some(),
    ]
}

pub async fn a_sign_in_on_a_new_device_stores_both_within_their_limits(storage: AccountStorage) {
    let start = instant();
    let at = |minutes| start + Duration::minutes(minutes);
    let user = new_account(&storage).await;
    let (old_session, recent_session) = (session(user, at(0)), session(user, at(1)));
    // The oldest device's code check still counts: the unchecked one goes first.
    let (checked, unchecked) = (device(user, at(0), true), device(user, at(1), false));
    for stored in [&old_session, &recent_session] {
        storage.sessions.create(stored).await.unwrap();
    }
    for stored in [&checked, &unchecked] {
        storage.devices.create(stored).await.unwrap();
    }
    let new_session = session(user, at(2));
    let new_device = device(user, at(2), false);
    let change = DeviceSignIn::New { device: &new_device, limit: 2, checks_count_since: at(-10) };
    let Some(opened) = storage.sessions.create_on_device(&new_session, 2, change).await.unwrap() else {
        assert_eq!(stored(&storage, &new_session, new_device.id).await, [false; 2], "declined, yet stored");
        assert_eq!(storage.sessions.list_active(user, at(2)).await.unwrap().len(), 2);
        assert_eq!(storage.devices.list_active(user).await.unwrap().len(), 2);
        return;
    };
    assert_eq!(
        opened,
        OpenedOnDevice { ended: vec![old_session.id], device: DeviceRecorded::New(vec![unchecked.id]) }
    );
    assert_eq!(storage.sessions.find(new_session.id).await.unwrap(), Some(new_session.clone()));
    assert_eq!(storage.devices.find(new_device.id).await.unwrap(), Some(new_device.clone()));
    assert_eq!(storage.sessions.find(old_session.id).await.unwrap().unwrap().revoked_at, Some(at(2)));
    assert_eq!(storage.devices.find(unchecked.id).await.unwrap().unwrap().revoked_at, Some(at(2)));
    let sessions: Vec<_> =
        storage.sessions.list_active(user, at(2)).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(sessions, [new_session.id, recent_session.id]);
    let devices: Vec<_> =
        storage.devices.list_active(user).await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(devices, [new_device.id, checked.id]);
}

pub async fn a_sign_in_on_a_remembered_device_records_it_beside_the_session(storage: AccountStorage) {
    let start = instant();
    let at = |minutes| start + Duration::minutes(minutes);
    let user = new_account(&storage).await;
    let remembered = device(user, at(0), false);
    storage.devices.create(&remembered).await.unwrap();
    let first = session(user, at(1));
    let change = DeviceSignIn::Known { id: remembered.id, code_checked: true };
    let Some(opened) = storage.sessions.create_on_device(&first, 10, change).await.unwrap() else {
        assert_eq!(stored(&storage, &first, remembered.id).await, [false, true]);
        assert_eq!(
            storage.devices.find(remembered.id).await.unwrap(),
            Some(remembered),
            "declined, yet changed"
        );
        return;
    };
    assert_eq!(opened, OpenedOnDevice { ended: vec![], device: DeviceRecorded::Known(true) });
    assert_eq!(storage.sessions.find(first.id).await.unwrap(), Some(first));
    let found = storage.devices.find(remembered.id).await.unwrap().unwrap();
    assert_eq!((found.last_used_at, found.code_verified_at), (at(1), Some(at(1))));

    let second = session(user, at(2));
    let change = DeviceSignIn::Known { id: remembered.id, code_checked: false };
    let opened = storage.sessions.create_on_device(&second, 10, change).await.unwrap().unwrap();
    assert_eq!(opened.device, DeviceRecorded::Known(true));
    let found = storage.devices.find(remembered.id).await.unwrap().unwrap();
    assert_eq!((found.last_used_at, found.code_verified_at), (at(2), Some(at(1))), "no new code check");

    let other = new_account(&storage).await;
    let theirs = session(other, at(2));
    let change = DeviceSignIn::Known { id: remembered.id, code_checked: true };
    let opened = storage.sessions.create_on_device(&theirs, 10, change).await.unwrap().unwrap();
    assert_eq!(opened.device, DeviceRecorded::Known(false), "another account's device is unknown");
    let found = storage.devices.find(remembered.id).await.unwrap().unwrap();
    assert_eq!((found.last_used_at, found.code_verified_at), (at(2), Some(at(1))), "untouched");

    assert!(storage.devices.revoke(user, remembered.id, at(3)).await.unwrap());
    let third = session(user, at(4));
    let change = DeviceSignIn::Known { id: remembered.id, code_checked: true };
    let opened = storage.sessions.create_on_device(&third, 10, change).await.unwrap().unwrap();
    assert_eq!(opened.device, DeviceRecorded::Known(false), "a forgotten device records nothing");
    assert_eq!(
        storage.sessions.find(third.id).await.unwrap(),
        Some(third),
        "the session is stored all the same"
    );
    let found = storage.devices.find(remembered.id).await.unwrap().unwrap();
    assert_eq!((found.last_used_at, found.revoked_at), (at(2), Some(at(3))));
}

pub async fn a_sign_in_of_a_deleted_account_stores_nothing(storage: AccountStorage) {
    let user = new_account(&storage).await;
    assert!(storage.users.delete(user).await.unwrap());
    let (gone_session, gone_device) = (session(user, instant()), device(user, instant(), true));
    let change = DeviceSignIn::New { device: &gone_device, limit: 5, checks_count_since: instant() };
    match storage.sessions.create_on_device(&gone_session, 5, change).await {
        Ok(None) => {}
        Err(PortError::AccountGone) => {}
        other => panic!("a sign-in of a deleted account: {other:?}"),
    }
    assert_eq!(stored(&storage, &gone_session, gone_device.id).await, [false; 2]);
}

/// Sign-ins of one account running at once all succeed (no deadlock between the
/// sessions and devices they end), and the next one brings both back to their limits.
pub async fn concurrent_sign_ins_of_one_account_succeed_and_keep_the_limits(storage: AccountStorage) {
    let user = new_account(&storage).await;
    let start = instant();
    let calls: Vec<_> = (0..24)
        .map(|index| {
            let sessions = Arc::clone(&storage.sessions);
            let at = start + Duration::milliseconds(index);
            tokio::spawn(async move {
                let (new_session, new_device) = (session(user, at), device(user, at, index % 2 == 0));
                let change = DeviceSignIn::New { device: &new_device, limit: 3, checks_count_since: start };
                sessions.create_on_device(&new_session, 3, change).await
            })
        })
        .collect();
    let mut declined = 0;
    for call in calls {
        if call.await.unwrap().unwrap().is_none() {
            declined += 1;
        }
    }
    if declined > 0 {
        assert_eq!(declined, 24, "a store declines always or never");
        assert!(storage.sessions.list_active(user, start).await.unwrap().is_empty());
        return;
    }
    let last = start + Duration::seconds(1);
    let (new_session, new_device) = (session(user, last), device(user, last, true));
    let change = DeviceSignIn::New { device: &new_device, limit: 3, checks_count_since: start };
    storage.sessions.create_on_device(&new_session, 3, change).await.unwrap().unwrap();
    assert_eq!(storage.sessions.list_active(user, last).await.unwrap().len(), 3);
    assert_eq!(storage.devices.list_active(user).await.unwrap().len(), 3);
}
