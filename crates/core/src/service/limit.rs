//! Keeping an account's sessions or remembered devices within a limit.

/// Of `others`, an account's items besides the one just added, those to drop so that
/// with it there are at most `limit` (the new one always stays, so a limit below one
/// counts as one): the least by `key`, least first.
pub(super) fn beyond_limit<T, K: Ord>(mut others: Vec<T>, limit: usize, key: impl FnMut(&T) -> K) -> Vec<T> {
    let excess = (others.len() + 1).saturating_sub(limit.max(1));
    if excess == 0 {
        return Vec::new();
    }
    others.sort_by_key(key);
    others.truncate(excess);
    others
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
