//! Keeping an account's sessions or remembered devices within a limit: which ones a
//! new one pushes out ([`SessionRepository::create_within_limit`],
//! [`DeviceRepository::create_within_limit`]), for adapters that decide it in Rust.
//!
//! [`SessionRepository::create_within_limit`]: super::SessionRepository::create_within_limit
//! [`DeviceRepository::create_within_limit`]: super::DeviceRepository::create_within_limit

use time::OffsetDateTime;

use crate::domain::{Device, DeviceId, Session, SessionId};

/// Of `others`, an account's items besides the one just added, those to drop so that
/// with it there are at most `limit` (the new one always stays, so a limit below one
/// counts as one): the least by `key`, least first.
pub fn beyond_limit<T, K: Ord>(mut others: Vec<T>, limit: usize, key: impl FnMut(&T) -> K) -> Vec<T> {
    let excess = (others.len() + 1).saturating_sub(limit.max(1));
    if excess == 0 {
        return Vec::new();
    }
    others.sort_by_key(key);
    others.truncate(excess);
    others
}

/// The order in which sessions beyond the limit end, first to go first: least recently
/// used, then oldest, then by id.
pub fn session_unused_first(session: &Session) -> (OffsetDateTime, OffsetDateTime, SessionId) {
    (session.last_used_at, session.created_at, session.id)
}

/// The order in which devices beyond the limit are forgotten, first to go first:
/// devices whose last code check is older than `checks_count_since` (or that have
/// none) before the others, then least recently used, then oldest, then by id. A
/// client that never keeps its device token makes a new device at each sign-in, and
/// must not push out the device on which it entered its code.
pub fn device_unused_first(
    checks_count_since: OffsetDateTime,
) -> impl Fn(&Device) -> (bool, OffsetDateTime, OffsetDateTime, DeviceId) {
    move |device| {
        (device.code_checked_since(checks_count_since), device.last_used_at, device.created_at, device.id)
    }
}

#[cfg(test)]
mod tests {
    use super::beyond_limit;

    #[test]
    fn nothing_is_dropped_within_the_limit() {
        assert!(beyond_limit(vec![3, 1], 3, |n| *n).is_empty());
    }

    #[test]
    fn the_least_are_dropped_to_make_room_for_the_new_one() {
        assert_eq!(beyond_limit(vec![5, 1, 4, 2], 3, |n| *n), [1, 2]);
    }

    #[test]
    fn a_limit_of_zero_keeps_the_new_one_alone() {
        assert_eq!(beyond_limit(vec![2, 1], 0, |n| *n), [1, 2]);
    }
}
