//! The retention purge on the in-memory stores, with a manual clock: what it keeps,
//! what it deletes, and how much one run may do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use otp_core::crypto::KeyedHasher;
use otp_core::domain::{Device, DeviceId, Session};
use otp_core::ports::{Clock, DeviceRepository, RotateOutcome, SessionRepository};
use otp_core::service::{Purged, RecordRetention};
use otp_core::{SessionId, UserId};
use otp_memory::{ManualClock, MemoryDeviceRepository, MemorySessionRepository};
use time::OffsetDateTime;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

struct Rig {
    sessions: Arc<MemorySessionRepository>,
    devices: Arc<MemoryDeviceRepository>,
    clock: Arc<ManualClock>,
    retention: RecordRetention,
}

fn rig() -> Rig {
    let sessions = Arc::new(MemorySessionRepository::new());
    let devices = Arc::new(MemoryDeviceRepository::new());
    let clock = Arc::new(ManualClock::starting_now());
    let retention = RecordRetention::new(sessions.clone(), devices.clone(), clock.clone(), 30 * DAY);
    Rig { sessions, devices, clock, retention }
}

fn session(user_id: UserId, now: OffsetDateTime) -> Session {
    Session {
        id: SessionId::generate(),
        user_id,
        refresh_hash: KeyedHasher::new(&[3; 32]).unwrap().token_hash("refresh"),
        created_at: now,
        last_used_at: now,
        expires_at: now + time::Duration::days(30),
        revoked_at: None,
        ip: None,
        user_agent: None,
        auth_methods: Vec::new(),
    }
}

fn device(user_id: UserId, now: OffsetDateTime) -> Device {
    let hasher = KeyedHasher::new(&[3; 32]).unwrap();
    Device {
        id: DeviceId::generate(),
        user_id,
        token_hash: hasher.device_hash("device"),
        client: String::new(),
        created_at: now,
        last_used_at: now,
        code_verified_at: None,
        revoked_at: None,
        ip: None,
        user_agent: None,
    }
}

#[tokio::test]
async fn what_ended_within_the_retention_is_kept_and_what_ended_before_it_is_deleted() {
    let rig = rig();
    let user = UserId::generate();
    let start = rig.clock.now();
    let (logged_out, refreshed) = (session(user, start), session(user, start));
    let (forgotten, remembered) = (device(user, start), device(user, start));
    rig.sessions.create(&logged_out).await.unwrap();
    rig.sessions.create(&refreshed).await.unwrap();
    rig.devices.create(&forgotten).await.unwrap();
    rig.devices.create(&remembered).await.unwrap();
    rig.sessions.revoke(logged_out.id, start).await.unwrap();
    rig.devices.revoke(user, forgotten.id, start).await.unwrap();

    rig.clock.advance(29 * DAY);
    assert_eq!(rig.retention.purge().await.unwrap(), Purged::default(), "ended 29 days ago: kept");
    // The live session is refreshed before it expires.
    let later = rig.clock.now();
    let hasher = KeyedHasher::new(&[3; 32]).unwrap();
    let rotated = rig
        .sessions
        .rotate_refresh(
            refreshed.id,
            &refreshed.refresh_hash,
            &hasher.token_hash("next"),
            later,
            later + time::Duration::days(30),
        )
        .await
        .unwrap();
    assert!(matches!(rotated, RotateOutcome::Rotated(_)), "{rotated:?}");

    rig.clock.advance(2 * DAY);
    assert_eq!(rig.retention.purge().await.unwrap(), Purged { sessions: 1, devices: 1 });
    assert_eq!(rig.sessions.find(logged_out.id).await.unwrap(), None);
    assert_eq!(rig.devices.find(forgotten.id).await.unwrap(), None);
    assert!(rig.sessions.find(refreshed.id).await.unwrap().is_some());
    assert!(rig.devices.find(remembered.id).await.unwrap().is_some());

    rig.clock.advance(60 * DAY);
    assert_eq!(
        rig.retention.purge().await.unwrap(),
        Purged { sessions: 1, devices: 0 },
        "the renewed session expired 30 days after its refresh and was kept 30 more; a remembered device never expires"
    );
}

#[tokio::test]
async fn one_run_deletes_at_most_its_batches_and_the_next_run_goes_on() {
    let rig = rig();
    let retention = rig.retention.clone().with_batches(10, 3);
    let user = UserId::generate();
    let start = rig.clock.now();
    for _ in 0..45 {
        let ended = session(user, start);
        rig.sessions.create(&ended).await.unwrap();
        rig.sessions.revoke(ended.id, start).await.unwrap();
    }
    rig.clock.advance(31 * DAY);
    assert_eq!(retention.purge().await.unwrap().sessions, 30, "three batches of ten");
    assert_eq!(retention.purge().await.unwrap().sessions, 15, "the rest");
    assert_eq!(retention.purge().await.unwrap().sessions, 0);
}
