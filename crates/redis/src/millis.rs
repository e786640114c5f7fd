//! Times and durations as whole milliseconds, the unit of the scripts and of `PEXPIRE`.
//!
//! Unix milliseconds of any `OffsetDateTime` (years -9999 to 9999) stay below 2^53, so
//! Lua's doubles hold them exactly. Durations are capped at [`MAX_TTL_MS`] so that no
//! sum overflows and every TTL is an integer Redis accepts.

use std::time::Duration;

use time::OffsetDateTime;

/// The longest TTL or window the adapters use: ten years.
pub(crate) const MAX_TTL_MS: i64 = 10 * 366 * 24 * 60 * 60 * 1000;

/// Milliseconds since the Unix epoch, rounded down.
pub(crate) fn unix_ms(at: OffsetDateTime) -> i64 {
    let ms = at.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// A duration in milliseconds, rounded up (so a non-zero duration never becomes zero)
/// and capped at [`MAX_TTL_MS`].
pub(crate) fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos().div_ceil(1_000_000)).map_or(MAX_TTL_MS, |ms| ms.min(MAX_TTL_MS))
}

/// A TTL from `now` until `until`, capped at [`MAX_TTL_MS`]; zero or less when `until`
/// is not in the future (the caller then writes nothing).
pub(crate) fn ttl_ms(now_ms: i64, until_ms: i64) -> i64 {
    until_ms.saturating_sub(now_ms).min(MAX_TTL_MS)
}

/// A wait reported by a script, at least one millisecond.
pub(crate) fn wait(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_down_to_the_millisecond() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_999_999).unwrap();
        assert_eq!(unix_ms(at), 1_700_000_000_123);
        let before_epoch = OffsetDateTime::from_unix_timestamp_nanos(-1).unwrap();
        assert_eq!(unix_ms(before_epoch), -1);
    }

    #[test]
    fn durations_round_up_and_are_capped() {
        assert_eq!(duration_ms(Duration::ZERO), 0);
        assert_eq!(duration_ms(Duration::from_nanos(1)), 1);
        assert_eq!(duration_ms(Duration::from_secs(60)), 60_000);
        assert_eq!(duration_ms(Duration::MAX), MAX_TTL_MS);
    }

    #[test]
    fn ttls_are_capped_and_never_positive_for_the_past() {
        assert_eq!(ttl_ms(1_000, 400), -600);
        assert_eq!(ttl_ms(1_000, 1_000), 0);
        assert_eq!(ttl_ms(1_000, 1_001), 1);
        assert_eq!(ttl_ms(0, i64::MAX), MAX_TTL_MS);
        assert_eq!(ttl_ms(i64::MIN, i64::MAX), MAX_TTL_MS);
    }

    #[test]
    fn waits_are_at_least_a_millisecond() {
        assert_eq!(wait(-5), Duration::from_millis(1));
        assert_eq!(wait(0), Duration::from_millis(1));
        assert_eq!(wait(45_000), Duration::from_secs(45));
    }
}
