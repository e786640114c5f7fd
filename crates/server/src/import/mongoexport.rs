//! The first Python service's MongoDB `users` collection as `mongoexport` writes it:
//! one JSON document per line (the default) or one JSON array (`--jsonArray`), in
//! MongoDB's Extended JSON (relaxed or canonical).

use otp_core::import::ForeignAccount;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A document that is not JSON, or not an object.
#[derive(Debug, thiserror::Error)]
#[error("{place}: {reason}")]
pub struct ParseError {
    place: String,
    reason: String,
}

/// The accounts in a `mongoexport` file's text: `email`, `is_verified`, `is_active`
/// (active when absent), `created_at`, `last_login`. Each account's source is its `_id`
/// (or its line or position).
///
/// # Errors
/// [`ParseError`] naming the line (or array position) that is not a JSON object.
pub fn parse(text: &str) -> Result<Vec<ForeignAccount>, ParseError> {
    if text.trim_start().starts_with('[') {
        let documents: Vec<Value> = serde_json::from_str(text)
            .map_err(|error| ParseError { place: "the JSON array".into(), reason: error.to_string() })?;
        documents
            .iter()
            .enumerate()
            .map(|(index, document)| account(document, format!("item {}", index + 1)))
            .collect()
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| {
                let place = format!("line {}", index + 1);
                let document: Value = serde_json::from_str(line)
                    .map_err(|error| ParseError { place: place.clone(), reason: error.to_string() })?;
                account(&document, place)
            })
            .collect()
    }
}

fn account(document: &Value, place: String) -> Result<ForeignAccount, ParseError> {
    let Some(fields) = document.as_object() else {
        return Err(ParseError { place, reason: "not a JSON object".into() });
    };
    let id = fields.get("_id").and_then(|id| id.get("$oid").or(Some(id))).and_then(Value::as_str);
    Ok(ForeignAccount {
        source: id.map_or(place, |id| format!("_id {id}")),
        email: fields.get("email").and_then(Value::as_str).unwrap_or_default().to_owned(),
        password_hash: fields.get("hashed_password").and_then(Value::as_str).map(str::to_owned),
        verified: fields.get("is_verified").and_then(Value::as_bool).unwrap_or(false),
        active: fields.get("is_active").and_then(Value::as_bool).unwrap_or(true),
        created_at: fields.get("created_at").and_then(date),
        last_login: fields.get("last_login").and_then(date),
    })
}

/// A date as Extended JSON writes it: `{"$date": "2024-05-01T10:00:00Z"}` (relaxed),
/// `{"$date": {"$numberLong": "1714557600000"}}` (canonical), `{"$date": 1714557600000}`,
/// or a bare RFC 3339 string. Python's naive datetimes are UTC there.
fn date(value: &Value) -> Option<OffsetDateTime> {
    let value = value.get("$date").unwrap_or(value);
    let millis = match value {
        Value::String(text) => return OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| naive(text)),
        Value::Number(number) => number.as_i64(),
        Value::Object(_) => {
            value.get("$numberLong").and_then(Value::as_str).and_then(|text| text.parse().ok())
        }
        _ => None,
    }?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
}

/// `2024-05-01T10:00:00` or `2024-05-01T10:00:00.123456` without an offset, as UTC.
fn naive(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn json_lines_in_relaxed_extended_json() {
        let text = r#"{"_id":{"$oid":"665f1c2e9b1e8a3d4c5b6a01"},"email":"Ann@Example.com","is_verified":true,"created_at":{"$date":"2024-05-01T10:00:00.000Z"},"last_login":{"$date":"2024-06-01T08:30:00Z"}}

{"_id":{"$oid":"665f1c2e9b1e8a3d4c5b6a02"},"email":"bob@example.com","is_verified":false,"created_at":{"$date":{"$numberLong":"1714557600000"}},"last_login":null}
"#;
        let accounts = parse(text).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].source, "_id 665f1c2e9b1e8a3d4c5b6a01");
        assert_eq!(accounts[0].email, "Ann@Example.com", "normalised later, by the plan");
        assert!(accounts[0].verified && accounts[0].active);
        assert_eq!(accounts[0].created_at, Some(datetime!(2024-05-01 10:00 UTC)));
        assert_eq!(accounts[0].last_login, Some(datetime!(2024-06-01 08:30 UTC)));
        assert!(!accounts[1].verified);
        assert_eq!(accounts[1].created_at, Some(datetime!(2024-05-01 10:00 UTC)));
        assert_eq!(accounts[1].last_login, None);
    }

    #[test]
    fn a_json_array_with_plain_and_naive_dates() {
        let text = r#"[{"email":"ann@example.com","created_at":"2024-05-01T10:00:00"},
                       {"email":"bob@example.com","is_active":false,"created_at":{"$date":1714557600000}}]"#;
        let accounts = parse(text).unwrap();
        assert_eq!(accounts[0].source, "item 1");
        assert_eq!(accounts[0].created_at, Some(datetime!(2024-05-01 10:00 UTC)));
        assert!(!accounts[1].active);
        assert_eq!(accounts[1].created_at, Some(datetime!(2024-05-01 10:00 UTC)));
    }

    #[test]
    fn a_broken_line_is_named() {
        let error = parse("{\"email\":\"ann@example.com\"}\n{not json\n").unwrap_err();
        assert!(error.to_string().starts_with("line 2:"), "{error}");
        let error = parse("[1]").unwrap_err();
        assert_eq!(error.to_string(), "item 1: not a JSON object");
    }
}
