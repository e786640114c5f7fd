//! Pages of accounts and of the audit log: searches, sizes and cursors.

use crate::domain::{AuditEntry, AuditEntryId, MAX_EMAIL_LENGTH, User, UserId};
use crate::error::ValidationError;

/// Most entries one page holds; larger requests are cut to this.
pub const MAX_PAGE_SIZE: usize = 100;
/// Entries per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Longest address search accepted, in characters (the longest address).
pub const MAX_SEARCH_CHARS: usize = MAX_EMAIL_LENGTH;

/// What to list: an optional address search, a cursor and a page size, as the client
/// gave them; [`super::AdminService::list_users`] checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSearch {
    /// Text the address must contain (case-insensitive; blank means every account).
    pub email_contains: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<UserId>,
    /// Accounts per page: at least 1; [`DEFAULT_PAGE_SIZE`] when unset; more than
    /// [`MAX_PAGE_SIZE`] is cut to it.
    pub limit: Option<usize>,
}

/// One page of accounts, newest first.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// The accounts.
    pub users: Vec<User>,
    /// The cursor of the next page, when there is one.
    pub next: Option<UserId>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next page, when there is one.
    pub next: Option<AuditEntryId>,
}

pub(super) fn page_size(limit: Option<usize>) -> Result<usize, ValidationError> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(0) => Err(ValidationError::new("limit", "must be at least 1")),
        Some(limit) => Ok(limit.min(MAX_PAGE_SIZE)),
    }
}

pub(super) fn search_text(raw: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(text) = raw.map(|text| text.trim().to_lowercase()).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(ValidationError::new("q", "must be at most 254 characters"));
    }
    // No address holds one, and some stores cannot even compare with one (NUL).
    if text.chars().any(char::is_control) {
        return Err(ValidationError::new("q", "must not contain control characters"));
    }
    Ok(Some(text))
}

/// Splits one extra item off a page fetched with `size + 1`: its presence means there
/// is a next page, which starts after the last item kept.
pub(super) fn paginate<T, C>(
    mut items: Vec<T>,
    size: usize,
    cursor: impl Fn(&T) -> C,
) -> (Vec<T>, Option<C>) {
    let more = items.len() > size;
    items.truncate(size);
    let next = if more { items.last().map(cursor) } else { None };
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_cap_and_refuse_zero() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(7)).unwrap(), 7);
        assert_eq!(page_size(Some(10_000)).unwrap(), MAX_PAGE_SIZE);
        assert_eq!(page_size(Some(0)).unwrap_err().field, "limit");
    }

    #[test]
    fn searches_are_trimmed_lower_cased_and_bounded() {
        assert_eq!(search_text(Some("  Ann@Example ".into())).unwrap().as_deref(), Some("ann@example"));
        assert_eq!(search_text(Some("   ".into())).unwrap(), None);
        assert_eq!(search_text(None).unwrap(), None);
        assert!(search_text(Some("a".repeat(254))).is_ok());
        assert_eq!(search_text(Some("a".repeat(255))).unwrap_err().field, "q");
        for control in ["a\0b", "a\nb", "\u{7f}"] {
            assert_eq!(search_text(Some(control.into())).unwrap_err().field, "q", "{control:?}");
        }
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_more_remain() {
        let (items, next) = paginate(vec![5, 4, 3], 2, |item| *item);
        assert_eq!((items, next), (vec![5, 4], Some(4)));
        let (items, next) = paginate(vec![5, 4], 2, |item| *item);
        assert_eq!((items, next), (vec![5, 4], None));
        let (items, next) = paginate(Vec::<u8>::new(), 2, |item| *item);
        assert_eq!((items, next), (vec![], None));
    }
}
