//! How long an HTTP answer stays fresh, from its `Cache-Control` and `Age` headers.

use std::time::Duration;

/// The freshness lifetime an answer declares (RFC 9111 §4.2.1 for a private cache):
/// `max-age` less `Age`; zero for `no-cache` or `no-store`; `None` when it says nothing.
pub(crate) fn freshness(cache_control: Option<&str>, age: Option<&str>) -> Option<Duration> {
    let mut max_age: Option<u64> = None;
    for directive in cache_control?.split(',').map(str::trim) {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            // A value that is not a number makes the answer stale (RFC 9111 §4.2.1).
            let seconds = value.trim().trim_matches('"').parse::<u64>().unwrap_or(0);
            max_age = Some(max_age.map_or(seconds, |earlier| earlier.min(seconds)));
        }
    }
    let age = age.and_then(|age| age.trim().parse::<u64>().ok()).unwrap_or(0);
    max_age.map(|seconds| Duration::from_secs(seconds.saturating_sub(age)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(seconds: u64) -> Option<Duration> {
        Some(Duration::from_secs(seconds))
    }

    #[test]
    fn max_age_is_read_among_other_directives() {
        assert_eq!(freshness(Some("public, max-age=300"), None), secs(300));
        assert_eq!(freshness(Some("MAX-AGE=\"60\", must-revalidate"), None), secs(60));
        assert_eq!(freshness(Some("max-age=60, max-age=30"), None), secs(30));
    }

    #[test]
    fn age_is_subtracted() {
        assert_eq!(freshness(Some("max-age=300"), Some("100")), secs(200));
        assert_eq!(freshness(Some("max-age=300"), Some("900")), secs(0));
        assert_eq!(freshness(Some("max-age=300"), Some("soon")), secs(300));
    }

    #[test]
    fn no_cache_and_no_store_mean_stale_at_once() {
        assert_eq!(freshness(Some("no-cache"), None), secs(0));
        assert_eq!(freshness(Some("public, max-age=300, no-store"), None), secs(0));
        assert_eq!(freshness(Some("max-age=soon"), None), secs(0));
    }

    #[test]
    fn silence_is_none() {
        assert_eq!(freshness(None, None), None);
        assert_eq!(freshness(Some("public"), Some("5")), None);
        assert_eq!(freshness(Some(""), None), None);
    }
}
