//! From foreign records to accounts: normalise, find collisions, map the fields.

use std::collections::BTreeMap;
use std::fmt;

use time::OffsetDateTime;

use crate::domain::{EmailAddress, PasswordHash, Role, User, UserId};

/// An account as another service stored it, before any check.
#[derive(Clone, Default)]
pub struct ForeignAccount {
    /// Where the record came from, for the report: a row key, a line number.
    pub source: String,
    /// The address as stored there.
    pub email: String,
    /// The stored password hash, if any (bcrypt or Argon2id come over; see
    /// [`PasswordHash::imported`]).
    pub password_hash: Option<String>,
    /// Whether that service considered the address proven.
    pub verified: bool,
    /// Whether the account could sign in there; an inactive one comes over disabled.
    pub active: bool,
    /// When the account was created there (now, when unknown).
    pub created_at: Option<OffsetDateTime>,
    /// When a code sent to the address was last entered there (the first service's
    /// `last_login`, a code sign-in).
    pub last_login: Option<OffsetDateTime>,
}

impl fmt::Debug for ForeignAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignAccount")
            .field("source", &self.source)
            .field("email", &self.email)
            .field("has_password", &self.password_hash.is_some())
            .field("verified", &self.verified)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// Why a record does not come over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The address is not one sign-up would accept.
    InvalidEmail(String),
    /// Other records of the source have the same address once normalised: none of them
    /// is imported, as which one is the person's cannot be told. The sources named are
    /// the other records.
    DuplicateAfterNormalisation(Vec<String>),
    /// An account with this address is already in the store (imported by an earlier
    /// run, or created here).
    AlreadyPresent,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEmail(why) => write!(f, "invalid address: {why}"),
            Self::DuplicateAfterNormalisation(others) => {
                write!(f, "same address after normalisation as {}", others.join(", "))
            }
            Self::AlreadyPresent => f.write_str("already present"),
        }
    }
}

/// A record that does not come over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The record's source (see [`ForeignAccount::source`]).
    pub source: String,
    /// Its address, as stored there.
    pub email: String,
    /// Why.
    pub reason: SkipReason,
}

/// An account ready to be stored.
#[derive(Debug, Clone)]
pub struct PlannedAccount {
    /// The record's source.
    pub source: String,
    /// The account.
    pub user: User,
    /// Set when the record's password hash was in a scheme not accepted: the account
    /// comes over without a password (its owner signs in by code or resets it).
    pub password_dropped: bool,
}

/// What an import would do, before it touches the store.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// The accounts to store, in the source's order.
    pub accounts: Vec<PlannedAccount>,
    /// The records that do not come over.
    pub skipped: Vec<Skipped>,
}

/// Checks and maps `records`, taken at `now`.
///
/// Addresses are normalised as at sign-up ([`EmailAddress::parse`]). Records whose
/// addresses collide after normalisation are all reported
/// ([`SkipReason::DuplicateAfterNormalisation`]) and none is imported. A verified record
/// has its address proven since its creation; an inactive one is disabled; a password
/// hash in another scheme than bcrypt or Argon2id is dropped (reported on the account).
pub fn plan(records: impl IntoIterator<Item = ForeignAccount>, now: OffsetDateTime) -> ImportPlan {
    let mut result = ImportPlan::default();
    let mut by_address: BTreeMap<EmailAddress, Vec<ForeignAccount>> = BTreeMap::new();
    let mut order = Vec::new();
    for record in records {
        match EmailAddress::parse(&record.email) {
            Ok(address) => {
                let group = by_address.entry(address.clone()).or_default();
                if group.is_empty() {
                    order.push(address);
                }
                group.push(record);
            }
            Err(error) => result.skipped.push(Skipped {
                source: record.source,
                email: record.email,
                reason: SkipReason::InvalidEmail(error.to_string()),
            }),
        }
    }
    for address in order {
        let Some(mut group) = by_address.remove(&address) else { continue };
        if group.len() > 1 {
            let sources: Vec<String> = group.iter().map(|record| record.source.clone()).collect();
            for record in group {
                let others = sources.iter().filter(|source| **source != record.source).cloned().collect();
                let reason = SkipReason::DuplicateAfterNormalisation(others);
                result.skipped.push(Skipped { source: record.source, email: record.email, reason });
            }
            continue;
        }
        if let Some(record) = group.pop() {
            result.accounts.push(account(address, record, now));
        }
    }
    result
}

fn account(email: EmailAddress, record: ForeignAccount, now: OffsetDateTime) -> PlannedAccount {
    let hash = record.password_hash.as_deref().map(str::trim).filter(|hash| !hash.is_empty());
    let password_hash = hash.and_then(|hash| PasswordHash::imported(hash).ok());
    let password_dropped = hash.is_some() && password_hash.is_none();
    let created_at = record.created_at.unwrap_or(now);
    let user = User {
        id: UserId::generate(),
        email,
        password_hash,
        email_verified_at: record.verified.then_some(created_at),
        last_code_verified_at: if record.verified { record.last_login } else { None },
        disabled: !record.active,
        role: Role::User,
        // No client of ours registered it: an unverified import's password follows the
        // rule for any code step by another client (see docs/security.md).
        registration: None,
        locale: None,
        created_at,
        updated_at: now,
    };
    PlannedAccount { source: record.source, user, password_dropped }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::domain::HashScheme;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);
    const BCRYPT: &str = "$2b$12$aiFaeNMGTsVw8Ln4Ek1l5enBQ/gVoTa7TksyJwQJDaqXLk8ORVLRm";

    fn record(source: &str, email: &str) -> ForeignAccount {
        ForeignAccount {
            source: source.into(),
            email: email.into(),
            active: true,
            ..ForeignAccount::default()
        }
    }

    #[test]
    fn addresses_are_normalised_as_at_sign_up() {
        let plan = plan([record("1", "  Ann@Example.COM ")], NOW);
        assert_eq!(plan.accounts[0].user.email.as_str(), "ann@example.com");
        assert!(plan.skipped.is_empty());
    }

    #[test]
    fn collisions_after_normalisation_are_all_reported_and_none_imported() {
        let plan = plan(
            [record("1", "ann@example.com"), record("2", "bob@example.com"), record("3", "ANN@example.com")],
            NOW,
        );
        assert_eq!(plan.accounts.len(), 1);
        assert_eq!(plan.accounts[0].user.email.as_str(), "bob@example.com");
        assert_eq!(
            plan.skipped,
            [
                Skipped {
                    source: "1".into(),
                    email: "ann@example.com".into(),
                    reason: SkipReason::DuplicateAfterNormalisation(vec!["3".into()])
                },
                Skipped {
                    source: "3".into(),
                    email: "ANN@example.com".into(),
                    reason: SkipReason::DuplicateAfterNormalisation(vec!["1".into()])
                },
            ]
        );
        assert_eq!(plan.skipped[0].reason.to_string(), "same address after normalisation as 3");
    }

    #[test]
    fn invalid_addresses_are_skipped_with_the_sign_up_reason() {
        let plan = plan([record("7", "not an address"), record("8", "")], NOW);
        assert!(plan.accounts.is_empty());
        assert!(
            matches!(&plan.skipped[0].reason, SkipReason::InvalidEmail(why) if why.contains("valid email"))
        );
        assert!(matches!(&plan.skipped[1].reason, SkipReason::InvalidEmail(why) if why.contains("empty")));
    }

    #[test]
    fn fields_map_to_the_account() {
        let created = datetime!(2025-03-04 05:06 UTC);
        let login = datetime!(2026-11-30 08:00 UTC);
        let verified = ForeignAccount {
            password_hash: Some(BCRYPT.into()),
            verified: true,
            created_at: Some(created),
            last_login: Some(login),
            ..record("1", "ann@example.com")
        };
        let inactive = ForeignAccount { active: false, ..record("2", "bob@example.com") };
        let plan = plan([verified, inactive], NOW);
        let ann = &plan.accounts[0];
        assert_eq!(ann.user.password_hash.as_ref().and_then(PasswordHash::scheme), Some(HashScheme::Bcrypt));
        assert_eq!(
            ann.user.password_hash.as_ref().map(PasswordHash::as_phc),
            Some(BCRYPT),
            "stored as it is"
        );
        assert_eq!((ann.user.created_at, ann.user.email_verified_at), (created, Some(created)));
        assert_eq!(ann.user.last_code_verified_at, Some(login));
        assert!(!ann.user.disabled && !ann.password_dropped);
        let bob = &plan.accounts[1].user;
        assert!(bob.disabled && !bob.is_verified() && bob.password_hash.is_none());
        assert_eq!((bob.created_at, bob.updated_at), (NOW, NOW));
    }

    #[test]
    fn hashes_in_other_schemes_are_dropped_and_reported() {
        let pbkdf2 = ForeignAccount {
            password_hash: Some("$pbkdf2-sha256$29000$abc$def".into()),
            ..record("1", "ann@example.com")
        };
        let empty = ForeignAccount { password_hash: Some(String::new()), ..record("2", "bob@example.com") };
        let plan = plan([pbkdf2, empty], NOW);
        assert!(plan.accounts[0].password_dropped && plan.accounts[0].user.password_hash.is_none());
        assert!(!plan.accounts[1].password_dropped, "no hash is not a dropped hash");
    }

    #[test]
    fn an_unverified_record_keeps_no_code_check() {
        let record = ForeignAccount { last_login: Some(NOW), ..record("1", "ann@example.com") };
        assert_eq!(plan([record], NOW).accounts[0].user.last_code_verified_at, None);
    }

    #[test]
    fn the_hash_never_prints() {
        let record = ForeignAccount { password_hash: Some(BCRYPT.into()), ..record("1", "ann@example.com") };
        assert!(!format!("{record:?}").contains("$2b$"));
    }
}
