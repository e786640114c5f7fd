//! The configuration keys of the two Python services this server replaces, read as
//! aliases of ours, so their `.env` files work unchanged.
//!
//! Each alias used is reported as a note for the start-up log. A key given under both
//! names with different values is refused: which one was meant cannot be guessed.

use std::collections::BTreeMap;

/// How an alias's value becomes the value of our key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversion {
    /// Taken as it is.
    Same,
    /// Minutes, multiplied by 60 into seconds.
    MinutesToSeconds,
}

/// One foreign key and the key of ours it stands for.
#[derive(Debug, Clone, Copy)]
struct Alias {
    foreign: &'static str,
    ours: &'static str,
    conversion: Conversion,
}

const fn same(foreign: &'static str, ours: &'static str) -> Alias {
    Alias { foreign, ours, conversion: Conversion::Same }
}

/// The Python services' keys that mean one of ours.
const ALIASES: [Alias; 7] = [
    same("SMTP_HOST", "SMTP_SERVER"),
    same("SMTP_USER", "SMTP_USERNAME"),
    same("EMAIL_FROM", "FROM_EMAIL"),
    same("SMTP_FROM", "FROM_EMAIL"),
    same("JWT_SECRET_KEY", "SECRET_KEY"),
    Alias {
        foreign: "OTP_EXPIRY_MINUTES",
        ours: "OTP_EXPIRE_SECONDS",
        conversion: Conversion::MinutesToSeconds,
    },
    Alias {
        foreign: "OTP_EXPIRE_MINUTES",
        ours: "OTP_EXPIRE_SECONDS",
        conversion: Conversion::MinutesToSeconds,
    },
];

/// The Python services' keys that have no counterpart here, and why.
const UNUSED: [(&str, &str); 3] = [
    ("JWT_ALGORITHM", "access tokens are PASETO v4.public, signed with TOKEN_SIGNING_KEY"),
    ("ALGORITHM", "access tokens are PASETO v4.public, signed with TOKEN_SIGNING_KEY"),
    ("REFRESH_TOKEN_EXPIRE_MINUTES", "refresh tokens last REFRESH_TOKEN_EXPIRE_DAYS"),
];

/// Every foreign key this module reads (for tests that start the binary with a
/// cleared environment, and for the documentation check).
pub fn foreign_keys() -> impl Iterator<Item = &'static str> {
    ALIASES.iter().map(|alias| alias.foreign).chain(UNUSED.iter().map(|(key, _)| *key))
}

/// Adds to `environment` (our upper-case keys and their values) the values given under
/// the Python services' names, as `lookup` finds them. Returns one note per alias used
/// or foreign key ignored, for the start-up log; none carries a value.
///
/// # Errors
/// A message naming both keys when a value is given under both names and the two
/// differ (after conversion), or when a minutes value is not a whole number.
pub fn apply(
    environment: &mut BTreeMap<String, String>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, String> {
    let lookup =
        |key: &str| lookup(key).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
    let mut notes = Vec::new();
    for alias in ALIASES {
        let Some(raw) = lookup(alias.foreign) else { continue };
        let value = convert(alias, &raw)?;
        match environment.get(alias.ours) {
            Some(existing) if *existing != value => {
                return Err(format!(
                    "{} and {} are both set, to different values: keep one (they mean the same setting)",
                    alias.foreign, alias.ours
                ));
            }
            Some(_) => notes.push(format!(
                "{} is set to the same value as {}; {} is used",
                alias.foreign, alias.ours, alias.ours
            )),
            None => {
                notes.push(match alias.conversion {
                    Conversion::Same => format!("{} read as {}", alias.foreign, alias.ours),
                    Conversion::MinutesToSeconds => {
                        format!("{} read as {} ({value} seconds)", alias.foreign, alias.ours)
                    }
                });
                environment.insert(alias.ours.to_owned(), value);
            }
        }
    }
    for (key, reason) in UNUSED {
        if lookup(key).is_some() {
            notes.push(format!("{key} is not used: {reason}"));
        }
    }
    Ok(notes)
}

fn convert(alias: Alias, raw: &str) -> Result<String, String> {
    match alias.conversion {
        Conversion::Same => Ok(raw.to_owned()),
        Conversion::MinutesToSeconds => raw
            .parse::<u64>()
            .ok()
            .and_then(|minutes| minutes.checked_mul(60))
            .map(|seconds| seconds.to_string())
            .ok_or_else(|| format!("{}: expected a whole number of minutes", alias.foreign)),
    }
}

/// SQLAlchemy's driver suffix in a PostgreSQL URL (`postgresql+asyncpg://`,
/// `postgresql+psycopg://`), removed. Returns the URL without it and the suffix removed,
/// or `None` when the URL has none.
pub fn strip_driver_suffix(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let (base, driver) = scheme.split_once('+')?;
    if !matches!(base, "postgresql" | "postgres") || driver.is_empty() {
        return None;
    }
    Some((format!("{base}://{rest}"), driver.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply_to(
        ours: &[(&str, &str)],
        foreign: &[(&str, &str)],
    ) -> Result<(BTreeMap<String, String>, Vec<String>), String> {
        let mut environment: BTreeMap<String, String> =
            ours.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect();
        let foreign: BTreeMap<String, String> =
            foreign.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect();
        let notes = apply(&mut environment, |key| foreign.get(key).cloned())?;
        Ok((environment, notes))
    }

    #[test]
    fn the_first_services_keys_become_ours_with_one_note_each() {
        let (environment, notes) = apply_to(
            &[],
            &[
                ("SMTP_HOST", "smtp.example.com"),
                ("SMTP_USER", "mailer"),
                ("JWT_SECRET_KEY", "a-long-enough-secret-for-the-keyed-hashes"),
                ("OTP_EXPIRY_MINUTES", "5"),
                ("JWT_ALGORITHM", "HS256"),
            ],
        )
        .unwrap();
        assert_eq!(environment["SMTP_SERVER"], "smtp.example.com");
        assert_eq!(environment["SMTP_USERNAME"], "mailer");
        assert_eq!(environment["SECRET_KEY"], "a-long-enough-secret-for-the-keyed-hashes");
        assert_eq!(environment["OTP_EXPIRE_SECONDS"], "300");
        assert_eq!(notes.len(), 5, "{notes:?}");
        assert!(notes.iter().any(|note| note == "SMTP_HOST read as SMTP_SERVER"));
        assert!(notes.iter().any(|note| note.starts_with("JWT_ALGORITHM is not used")));
        assert!(notes.iter().all(|note| !note.contains("a-long-enough-secret")), "no value is logged");
    }

    #[test]
    fn the_same_key_under_both_names_must_agree() {
        let error = apply_to(&[("SMTP_SERVER", "a.example")], &[("SMTP_HOST", "b.example")]).unwrap_err();
        assert!(error.contains("SMTP_HOST") && error.contains("SMTP_SERVER"), "{error}");
        let error = apply_to(&[("OTP_EXPIRE_SECONDS", "300")], &[("OTP_EXPIRY_MINUTES", "10")]).unwrap_err();
        assert!(error.contains("OTP_EXPIRY_MINUTES"), "{error}");
        let (environment, notes) =
            apply_to(&[("OTP_EXPIRE_SECONDS", "300")], &[("OTP_EXPIRY_MINUTES", "5")]).unwrap();
        assert_eq!(environment["OTP_EXPIRE_SECONDS"], "300");
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn two_aliases_of_one_key_must_agree_too() {
        let error =
            apply_to(&[], &[("EMAIL_FROM", "a@example.com"), ("SMTP_FROM", "b@example.com")]).unwrap_err();
        assert!(error.contains("SMTP_FROM") && error.contains("FROM_EMAIL"), "{error}");
    }

    #[test]
    fn minutes_must_be_a_whole_number() {
        let error = apply_to(&[], &[("OTP_EXPIRY_MINUTES", "five")]).unwrap_err();
        assert!(error.contains("OTP_EXPIRY_MINUTES"), "{error}");
    }

    #[test]
    fn unset_and_empty_aliases_change_nothing() {
        let (environment, notes) = apply_to(&[("SMTP_SERVER", "a.example")], &[("SMTP_HOST", "  ")]).unwrap();
        assert_eq!(environment.len(), 1);
        assert!(notes.is_empty());
    }

    #[test]
    fn sqlalchemy_driver_suffixes_are_removed() {
        assert_eq!(
            strip_driver_suffix("postgresql+asyncpg://app:pw@db:5432/auth"),
            Some(("postgresql://app:pw@db:5432/auth".to_owned(), "asyncpg".to_owned()))
        );
        assert_eq!(
            strip_driver_suffix("postgresql+psycopg://localhost/auth").map(|(url, _)| url),
            Some("postgresql://localhost/auth".to_owned())
        );
        assert_eq!(strip_driver_suffix("postgres://localhost/auth"), None);
        assert_eq!(strip_driver_suffix("mysql+aiomysql://localhost/auth"), None);
    }
}
