//! Reading the accounts of another service's PostgreSQL database (the second Python
//! service's `users` table), for `otp-server import postgres`. Read-only: one `SELECT`.

use otp_core::import::ForeignAccount;
use time::OffsetDateTime;

use crate::error::PgError;

/// Where the accounts are, and the names of their columns. A column set to `None` is
/// not read (its value counts as unknown: not verified, active, created now, no
/// password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignUsersTable {
    /// The table, optionally with its schema (`public.users`).
    pub table: String,
    /// The address column.
    pub email: String,
    /// The password-hash column (passlib's bcrypt hashes).
    pub password_hash: Option<String>,
    /// The "address proven" column.
    pub verified: Option<String>,
    /// The "may sign in" column.
    pub active: Option<String>,
    /// The creation-time column (`timestamp` or `timestamptz`).
    pub created_at: Option<String>,
}

impl Default for ForeignUsersTable {
    /// The second Python service's names: `users` with `email`, `hashed_password`,
    /// `is_verified`, `is_active`, `created_at`.
    fn default() -> Self {
        Self {
            table: "users".to_owned(),
            email: "email".to_owned(),
            password_hash: Some("hashed_password".to_owned()),
            verified: Some("is_verified".to_owned()),
            active: Some("is_active".to_owned()),
            created_at: Some("created_at".to_owned()),
        }
    }
}

/// `name` as a quoted SQL identifier; `schema.table` becomes `"schema"."table"`.
fn quoted(name: &str, dotted: bool) -> String {
    let parts: Vec<&str> = if dotted { name.split('.').collect() } else { vec![name] };
    parts.iter().map(|part| format!("\"{}\"", part.replace('"', "\"\""))).collect::<Vec<_>>().join(".")
}

impl ForeignUsersTable {
    /// The one statement run: every column cast to the type read, absent ones `NULL`,
    /// ordered by address so row numbers are stable between runs.
    fn select(&self) -> String {
        let column = |name: &Option<String>, cast: &str| {
            name.as_deref()
                .map_or_else(|| format!("NULL::{cast}"), |name| format!("{}::{cast}", quoted(name, false)))
        };
        let created = self.created_at.as_deref().map_or_else(
            || "NULL::float8".to_owned(),
            |name| format!("extract(epoch from {})::float8", quoted(name, false)),
        );
        let email = quoted(&self.email, false);
        format!(
            "SELECT {email}::text, {}, {}, {}, {created} FROM {} ORDER BY {email}",
            column(&self.password_hash, "text"),
            column(&self.verified, "boolean"),
            column(&self.active, "boolean"),
            quoted(&self.table, true),
        )
    }
}

/// Every account in `table` of the database at `url` (plain TCP or a Unix socket).
///
/// # Errors
/// [`PgError::Connect`] when the database cannot be reached; [`PgError::ReadForeign`]
/// when the table or a column does not exist or has another type.
pub async fn read_foreign_users(
    url: &str,
    table: &ForeignUsersTable,
) -> Result<Vec<ForeignAccount>, PgError> {
    let (client, connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.map_err(|error| PgError::Connect {
            context: "reading the accounts to import",
            source: Box::new(error),
        })?;
    let driver = tokio::spawn(connection);
    let rows = client.query(&table.select(), &[]).await;
    drop(client);
    let _ = driver.await;
    let rows =
        rows.map_err(|error| PgError::ReadForeign { table: table.table.clone(), source: Box::new(error) })?;
    let mut accounts = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let read = |error: tokio_postgres::Error| PgError::ReadForeign {
            table: table.table.clone(),
            source: Box::new(error),
        };
        let email: Option<String> = row.try_get(0).map_err(read)?;
        let created: Option<f64> = row.try_get(4).map_err(read)?;
        accounts.push(ForeignAccount {
            source: format!("{} row {}", table.table, index + 1),
            email: email.unwrap_or_default(),
            password_hash: row.try_get(1).map_err(read)?,
            verified: row.try_get::<_, Option<bool>>(2).map_err(read)?.unwrap_or(false),
            active: row.try_get::<_, Option<bool>>(3).map_err(read)?.unwrap_or(true),
            created_at: created
                .and_then(|seconds| OffsetDateTime::from_unix_timestamp_nanos((seconds * 1e9) as i128).ok()),
            last_login: None,
        });
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_quotes_every_name_and_casts_every_column() {
        assert_eq!(
            ForeignUsersTable::default().select(),
            "SELECT \"email\"::text, \"hashed_password\"::text, \"is_verified\"::boolean, \"is_active\"::boolean, \
             extract(epoch from \"created_at\")::float8 FROM \"users\" ORDER BY \"email\""
        );
        let odd = ForeignUsersTable {
            table: "auth.people".into(),
            email: "mail\"; DROP TABLE x; --".into(),
            password_hash: None,
            verified: None,
            active: None,
            created_at: None,
        };
        assert_eq!(
            odd.select(),
            "SELECT \"mail\"\"; DROP TABLE x; --\"::text, NULL::text, NULL::boolean, NULL::boolean, NULL::float8 \
             FROM \"auth\".\"people\" ORDER BY \"mail\"\"; DROP TABLE x; --\""
        );
    }
}
