//! Accounts in the `users` table.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use otp_core::crypto::TokenHash;
use otp_core::domain::{Device, Locale, PasswordHash, RegistrationBinding, Role, Session, User};
use otp_core::ports::{AccountStanding, ClientStanding, UserListQuery, UserRepository};
use otp_core::{EmailAddress, PortError, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::devices::{DeviceRow, StandingRow};
use crate::error::corrupt;
use crate::pool::PgPool;
use crate::prepared::Prepared;
use crate::rounds::{RoundWork, Rounds};
use crate::schema::functions::{coalesce, lower};
use crate::schema::{devices, sessions, users};
use crate::sessions::{SessionRow, end_all_of_user};

/// One row of `users`.
#[derive(Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
struct UserRow {
    id: Uuid,
    email: String,
    password_hash: Option<String>,
    email_verified_at: Option<OffsetDateTime>,
    last_code_verified_at: Option<OffsetDateTime>,
    disabled: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    role: String,
    registration_token_hash: Option<Vec<u8>>,
    registration_client: Option<String>,
    registration_expires_at: Option<OffsetDateTime>,
    locale: Option<String>,
}

impl From<&User> for UserRow {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.as_uuid(),
            email: user.email.as_str().to_owned(),
            password_hash: user.password_hash.as_ref().map(|hash| hash.as_phc().to_owned()),
            email_verified_at: user.email_verified_at,
            last_code_verified_at: user.last_code_verified_at,
            disabled: user.disabled,
            created_at: user.created_at,
            updated_at: user.updated_at,
            role: user.role.as_str().to_owned(),
            registration_token_hash: user.registration.as_ref().map(|b| b.token_hash.as_bytes().to_vec()),
            registration_client: user.registration.as_ref().map(|b| b.client.clone()),
            registration_expires_at: user.registration.as_ref().map(|b| b.expires_at),
            locale: user.locale.as_ref().map(|locale| locale.as_str().to_owned()),
        }
    }
}

impl UserRow {
    fn into_user(self, action: &'static str) -> Result<User, PortError> {
        let email = EmailAddress::parse(&self.email).map_err(|error| {
            corrupt(action, format!("stored address of user {} is invalid: {error}", self.id))
        })?;
        let role = self.role.parse::<Role>().map_err(|error| {
            corrupt(action, format!("stored role of user {} is invalid: {error}", self.id))
        })?;
        let registration =
            match (self.registration_token_hash, self.registration_client, self.registration_expires_at) {
                (Some(hash), Some(client), Some(expires_at)) => {
                    let hash: [u8; 32] = hash.as_slice().try_into().map_err(|_| {
                        corrupt(
                            action,
                            format!("registration token hash of user {} is not 32 bytes", self.id),
                        )
                    })?;
                    Some(RegistrationBinding { token_hash: TokenHash::from_bytes(hash), client, expires_at })
                }
                _ => None,
            };
        let locale = self.locale.as_deref().map(Locale::parse).transpose().map_err(|error| {
            corrupt(action, format!("stored locale of user {} is invalid: {error}", self.id))
        })?;
        Ok(User {
            registration,
            locale,
            id: UserId::from_uuid(self.id),
            email,
            password_hash: self.password_hash.map(PasswordHash::from_phc),
            email_verified_at: self.email_verified_at,
            last_code_verified_at: self.last_code_verified_at,
            disabled: self.disabled,
            role,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// PostgreSQL [`UserRepository`] on the `users` table. Addresses are unique
/// case-insensitively (a unique index on `lower(email)`); a `create` that collides
/// with it, even in a race, fails with `PortError::EmailTaken`. Deleting an account
/// deletes its sessions and identities with it (foreign keys `ON DELETE CASCADE`).
/// A first sign-in writes the `users`, `sessions` and `devices` rows in one
/// transaction: the tables of [`crate::PgSessionRepository`] and
/// [`crate::PgDeviceRepository`] on the same database.
///
/// Concurrent first sign-ins are written together (group commit, see
/// `rounds.rs`): each round of those waiting is one transaction of three
/// multi-row inserts; when a round fails, each of its sign-ins is written alone, so a
/// taken address fails only its own. Concurrent look-ups by address are served the
/// same way, one statement per round.
#[derive(Debug, Clone)]
pub struct PgUserRepository {
    pool: PgPool,
    first_sign_ins: Arc<Rounds<FirstSignIns>>,
    by_email: Arc<Rounds<ByEmail>>,
}

impl PgUserRepository {
    /// A repository on `pool`. Made inside a Tokio runtime, its group-commit task runs
    /// there; otherwise on the runtime of the first sign-in.
    pub fn new(pool: PgPool) -> Self {
        Self {
            first_sign_ins: Arc::new(Rounds::new(pool.clone())),
            by_email: Arc::new(Rounds::new(pool.clone())),
            pool,
        }
    }
}

/// The rows of one first sign-in.
struct FirstSignIn {
    user: UserRow,
    session: SessionRow,
    device: DeviceRow,
}

/// First sign-ins, written by group commit.
struct FirstSignIns;

impl RoundWork for FirstSignIns {
    type Call = FirstSignIn;
    type Answer = ();
    const ACTION: &'static str = "creating a user with its first session and device";

    // The accounts first: a taken address fails there (the unique index, which also
    // waits out a concurrent insert of the same address) and the rollback drops all.
    async fn serve(connection: &mut AsyncPgConnection, rows: &[FirstSignIn]) -> QueryResult<Vec<()>> {
        if let [one] = rows {
            // A single-row insert is prepared once per connection; a multi-row one
            // at each call (its text depends on the count).
            diesel::insert_into(users::table).values(&one.user).execute(connection).await?;
            diesel::insert_into(sessions::table).values(&one.session).execute(connection).await?;
            diesel::insert_into(devices::table).values(&one.device).execute(connection).await?;
            return Ok(vec![()]);
        }
        let users: Vec<&UserRow> = rows.iter().map(|row| &row.user).collect();
        let sessions: Vec<&SessionRow> = rows.iter().map(|row| &row.session).collect();
        let devices: Vec<&DeviceRow> = rows.iter().map(|row| &row.device).collect();
        diesel::insert_into(users::table).values(users).execute(connection).await?;
        diesel::insert_into(sessions::table).values(sessions).execute(connection).await?;
        diesel::insert_into(devices::table).values(devices).execute(connection).await?;
        Ok(vec![(); rows.len()])
    }
}

/// Look-ups by address, served in rounds: the addresses looked up at the same time
/// are found with one statement.
struct ByEmail;

/// An account found, with the address it was looked up by.
#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    wanted: String,
    #[diesel(embed)]
    user: UserRow,
}

/// Every account whose address is one of `$1`, case-insensitively (the unique index on
/// `lower(email)` finds each), with the address it was looked up by.
///
/// Deliberately not [`Prepared`](crate::prepared::Prepared): a plan kept from when the
/// table was nearly empty (a new deployment's first minutes) joins by scanning every
/// row, and kept doing so while the table grew. Planned afresh, a round pays its
/// planning once for all of its look-ups; a round of one is the single-row look-up,
/// kept prepared by diesel, whose plan is the index whatever the table's size.
const FIND_BY_EMAILS: &str = "\
    SELECT looked_up.wanted, users.id, users.email, users.password_hash, users.email_verified_at, \
        users.last_code_verified_at, users.disabled, users.created_at, users.updated_at, users.role, \
        users.registration_token_hash, users.registration_client, users.registration_expires_at, \
        users.locale \
    FROM unnest($1::text[]) AS looked_up(wanted) \
    JOIN users ON lower(users.email) = lower(looked_up.wanted)";

/// The account whose address is `$1` (case-insensitively, through the unique index on
/// `lower(email)`) and the standing among its active devices of the client whose
/// fingerprint is `$2`, code checks counting from `$3`: the aggregates of
/// `client_standing`, over `devices_active_by_user_idx`, in the same statement. Kept
/// prepared: unlike the rounds' join below, its generic plan uses the two indexes even
/// when made on empty tables (checked with `plan_cache_mode = force_generic_plan` on a
/// new database). Not served in rounds: one log-in's read, the hash queue bounds them.
const FIND_WITH_STANDING: &str = "\
    SELECT users.id, users.email, users.password_hash, users.email_verified_at, \
        users.last_code_verified_at, users.disabled, users.created_at, users.updated_at, users.role, \
        users.registration_token_hash, users.registration_client, users.registration_expires_at, \
        users.locale, standing.has_devices, standing.known, standing.code_checked \
    FROM users CROSS JOIN LATERAL ( \
        SELECT count(*) > 0 AS has_devices, \
            coalesce(bool_or(devices.client = $2), false) AS known, \
            coalesce(bool_or(devices.client = $2 AND devices.code_verified_at >= $3), false) AS code_checked \
        FROM devices WHERE devices.user_id = users.id AND devices.revoked_at IS NULL \
    ) AS standing \
    WHERE lower(users.email) = lower($1)";

/// An account found, with a client's standing among its devices.
#[derive(QueryableByName)]
struct FoundWithStanding {
    #[diesel(embed)]
    user: UserRow,
    #[diesel(embed)]
    standing: StandingRow,
}

impl RoundWork for ByEmail {
    type Call = String;
    type Answer = Option<UserRow>;
    const ACTION: &'static str = "finding a user by email";
    const ONE_STATEMENT: bool = true;
    const ALONE_AFTER_FAILURE: bool = false;

    async fn serve(
        connection: &mut AsyncPgConnection,
        wanted: &[String],
    ) -> QueryResult<Vec<Option<UserRow>>> {
        if let [address] = wanted {
            let found = users::table
                .filter(lower(users::email).eq(lower(address)))
                .select(UserRow::as_select())
                .first(connection)
                .await
                .optional()?;
            return Ok(vec![found]);
        }
        let found: Vec<Found> =
            diesel::sql_query(FIND_BY_EMAILS).bind::<Array<Text>, _>(wanted).load(connection).await?;
        let by_address: HashMap<String, UserRow> =
            found.into_iter().map(|found| (found.wanted, found.user)).collect();
        Ok(wanted.iter().map(|address| by_address.get(address).cloned()).collect())
    }
}

#[async_trait]
impl UserRepository for PgUserRepository {
    async fn create(&self, user: &User) -> Result<(), PortError> {
        const ACTION: &str = "creating a user";
        let row = UserRow::from(user);
        self.pool
            .run(ACTION, async |connection| {
                diesel::insert_into(users::table).values(row).execute(connection).await
            })
            .await?;
        Ok(())
    }

    async fn create_with_first_sign_in(
        &self,
        user: &User,
        session: &Session,
        device: &Device,
    ) -> Result<(), PortError> {
        let row = FirstSignIn {
            user: user.into(),
            session: SessionRow::from(session),
            device: DeviceRow::from(device),
        };
        self.first_sign_ins.call(row).await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError> {
        const ACTION: &str = "finding a user by id";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                users::table
                    .find(id.as_uuid())
                    .select(UserRow::as_select())
                    .first(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, PortError> {
        let row = self.by_email.call(email.as_str().to_owned()).await?;
        row.map(|row| row.into_user(ByEmail::ACTION)).transpose()
    }

    async fn find_by_email_with_standing(
        &self,
        email: &EmailAddress,
        client: &str,
        checks_count_since: OffsetDateTime,
    ) -> Result<Option<AccountStanding>, PortError> {
        const ACTION: &str = "finding a user by email with a client's standing";
        let found = self
            .pool
            .run(ACTION, async |connection| {
                Prepared(
                    diesel::sql_query(FIND_WITH_STANDING)
                        .bind::<Text, _>(email.as_str())
                        .bind::<Text, _>(client)
                        .bind::<Timestamptz, _>(checks_count_since),
                )
                .get_result::<FoundWithStanding>(connection)
                .await
                .optional()
            })
            .await?;
        let Some(found) = found else {
            return Ok(Some(AccountStanding { user: None, standing: ClientStanding::default() }));
        };
        let user = found.user.into_user(ACTION)?;
        Ok(Some(AccountStanding { user: Some(user), standing: found.standing.into() }))
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: Option<&PasswordHash>,
        now: OffsetDateTime,
    ) -> Result<bool, PortError> {
        const ACTION: &str = "setting a user's password";
        let updated = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(users::table.find(id.as_uuid()))
                    .set((
                        users::password_hash.eq(hash.map(PasswordHash::as_phc)),
                        no_registration(),
                        users::updated_at.eq(now),
                    ))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(updated > 0)
    }

    async fn register_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        binding: &RegistrationBinding,
        now: OffsetDateTime,
    ) -> Result<bool, PortError> {
        const ACTION: &str = "registering a pending password";
        let updated = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(users::table.find(id.as_uuid()))
                    .filter(users::email_verified_at.is_null())
                    .set((
                        users::password_hash.eq(Some(hash.as_phc())),
                        users::registration_token_hash.eq(Some(binding.token_hash.as_bytes().as_slice())),
                        users::registration_client.eq(Some(binding.client.as_str())),
                        users::registration_expires_at.eq(Some(binding.expires_at)),
                        users::updated_at.eq(now),
                    ))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(updated > 0)
    }

    async fn abandon_registration(&self, id: UserId, now: OffsetDateTime) -> Result<bool, PortError> {
        const ACTION: &str = "abandoning a registration";
        let updated = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(users::table.find(id.as_uuid()))
                    .filter(users::email_verified_at.is_null())
                    .set((
                        users::password_hash.eq(None::<&str>),
                        no_registration(),
                        users::updated_at.eq(now),
                    ))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(updated > 0)
    }

    async fn record_code_sign_in(
        &self,
        id: UserId,
        now: OffsetDateTime,
        registrant: Option<&TokenHash>,
    ) -> Result<Option<User>, PortError> {
        const ACTION: &str = "recording a sign-in by code";
        let registrant = registrant.map(|hash| hash.as_bytes().to_vec());
        let row = self
            .pool
            .run(ACTION, async |connection| {
                // In one UPDATE, every right-hand side reads the row as it was: an
                // unverified account keeps its password only for its registrant.
                let password = sql::<Nullable<Text>>(
                    "CASE WHEN email_verified_at IS NULL AND NOT coalesce(registration_token_hash = ",
                )
                .bind::<Nullable<Bytea>, _>(registrant.clone())
                .sql(", false) THEN NULL ELSE password_hash END");
                diesel::update(users::table.find(id.as_uuid()))
                    .set((
                        users::password_hash.eq(password),
                        no_registration(),
                        users::email_verified_at.eq(coalesce(users::email_verified_at, Some(now))),
                        users::last_code_verified_at.eq(now),
                        users::updated_at.eq(now),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn record_code_verified(&self, id: UserId, now: OffsetDateTime) -> Result<Option<User>, PortError> {
        const ACTION: &str = "recording a verified code";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(users::table.find(id.as_uuid()))
                    .set((
                        users::email_verified_at.eq(coalesce(users::email_verified_at, Some(now))),
                        users::last_code_verified_at.eq(now),
                        users::updated_at.eq(now),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn reset_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, PortError> {
        const ACTION: &str = "resetting a password and ending the account's sessions";
        self.pool
            .transaction(ACTION, async |connection| {
                let updated = diesel::update(users::table.find(id.as_uuid()))
                    .set((
                        users::password_hash.eq(Some(hash.as_phc())),
                        users::email_verified_at.eq(coalesce(users::email_verified_at, Some(now))),
                        users::last_code_verified_at.eq(now),
                        users::updated_at.eq(now),
                    ))
                    .execute(connection)
                    .await?;
                if updated == 0 {
                    return Ok(None);
                }
                let ended = end_all_of_user(connection, id.as_uuid(), now).await?;
                Ok(Some(u64::try_from(ended).unwrap_or(u64::MAX)))
            })
            .await
    }

    async fn list(&self, query: &UserListQuery) -> Result<Vec<User>, PortError> {
        const ACTION: &str = "listing users";
        let mut select = users::table.select(UserRow::as_select()).into_boxed();
        if let Some(before) = query.before {
            select = select.filter(users::id.lt(before.as_uuid()));
        }
        if let Some(text) = &query.email_contains {
            select = select.filter(lower(users::email).like(contains_pattern(text)));
        }
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let listing = select.order(users::id.desc()).limit(limit);
        let rows = self.pool.run(ACTION, async |connection| listing.load(connection).await).await?;
        rows.into_iter().map(|row| row.into_user(ACTION)).collect()
    }

    async fn set_disabled(
        &self,
        id: UserId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError> {
        const ACTION: &str = "disabling or enabling a user";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(users::table.find(id.as_uuid()))
                    .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
                    .returning(UserRow::as_returning())
                    .get_result(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn set_role(&self, id: UserId, role: Role, now: OffsetDateTime) -> Result<Option<User>, PortError> {
        const ACTION: &str = "setting a user's role";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(users::table.find(id.as_uuid()))
                    .set((users::role.eq(role.as_str()), users::updated_at.eq(now)))
                    .returning(UserRow::as_returning())
                    .get_result(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn change_email(
        &self,
        id: UserId,
        email: &EmailAddress,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError> {
        const ACTION: &str = "changing a user's address";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(users::table.find(id.as_uuid()))
                    .set((
                        users::email.eq(email.as_str()),
                        users::email_verified_at.eq(coalesce(users::email_verified_at, Some(now))),
                        users::updated_at.eq(now),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn set_locale(
        &self,
        id: UserId,
        locale: Option<&Locale>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError> {
        const ACTION: &str = "setting a user's language";
        let locale = locale.map(|locale| locale.as_str().to_owned());
        let row = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(users::table.find(id.as_uuid()))
                    .set((users::locale.eq(&locale), users::updated_at.eq(now)))
                    .returning(UserRow::as_returning())
                    .get_result(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn delete(&self, id: UserId) -> Result<bool, PortError> {
        const ACTION: &str = "deleting a user";
        let deleted = self
            .pool
            .run(ACTION, async |connection| {
                diesel::delete(users::table.find(id.as_uuid())).execute(connection).await
            })
            .await?;
        Ok(deleted > 0)
    }
}

type NoRegistration = (
    diesel::dsl::Eq<users::registration_token_hash, Option<Vec<u8>>>,
    diesel::dsl::Eq<users::registration_client, Option<String>>,
    diesel::dsl::Eq<users::registration_expires_at, Option<OffsetDateTime>>,
);

/// The assignments that remove a registration binding.
fn no_registration() -> NoRegistration {
    (
        users::registration_token_hash.eq(None),
        users::registration_client.eq(None),
        users::registration_expires_at.eq(None),
    )
}

/// A `LIKE` pattern matching `text` anywhere, with `LIKE`'s own characters (`%`, `_`
/// and the escape character `\`) taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for character in text.to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn like_characters_are_taken_literally() {
        assert_eq!(contains_pattern("Ann"), "%ann%");
        assert_eq!(contains_pattern(r"a_b%c\d"), r"%a\_b\%c\\d%");
    }
}
