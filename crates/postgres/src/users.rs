//! Accounts in the `users` table.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use otp_core::domain::{PasswordHash, User};
use otp_core::ports::UserRepository;
use otp_core::{EmailAddress, PortError, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{corrupt, from_query};
use crate::pool::PgPool;
use crate::schema::functions::{coalesce, lower};
use crate::schema::users;

/// One row of `users`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct UserRow {
    id: Uuid,
    email: String,
    password_hash: Option<String>,
    email_verified_at: Option<OffsetDateTime>,
    last_code_verified_at: Option<OffsetDateTime>,
    disabled: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
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
        }
    }
}

impl UserRow {
    fn into_user(self, action: &'static str) -> Result<User, PortError> {
        let email = EmailAddress::parse(&self.email).map_err(|error| {
            corrupt(action, format!("stored address of user {} is invalid: {error}", self.id))
        })?;
        Ok(User {
            id: UserId::from_uuid(self.id),
            email,
            password_hash: self.password_hash.map(PasswordHash::from_phc),
            email_verified_at: self.email_verified_at,
            last_code_verified_at: self.last_code_verified_at,
            disabled: self.disabled,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// PostgreSQL [`UserRepository`] on the `users` table. Addresses are unique
/// case-insensitively (a unique index on `lower(email)`); a `create` that collides
/// with it, even in a race, fails with `PortError::EmailTaken`.
#[derive(Debug, Clone)]
pub struct PgUserRepository {
    pool: PgPool,
}

impl PgUserRepository {
    /// A repository on `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl UserRepository for PgUserRepository {
    async fn create(&self, user: &User) -> Result<(), PortError> {
        const ACTION: &str = "creating a user";
        let mut connection = self.pool.connection(ACTION).await?;
        diesel::insert_into(users::table)
            .values(UserRow::from(user))
            .execute(&mut connection)
            .await
            .map_err(|error| from_query(ACTION, error))?;
        Ok(())
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError> {
        const ACTION: &str = "finding a user by id";
        let mut connection = self.pool.connection(ACTION).await?;
        let row = users::table
            .find(id.as_uuid())
            .select(UserRow::as_select())
            .first(&mut connection)
            .await
            .optional()
            .map_err(|error| from_query(ACTION, error))?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, PortError> {
        const ACTION: &str = "finding a user by email";
        let mut connection = self.pool.connection(ACTION).await?;
        let row = users::table
            .filter(lower(users::email).eq(lower(email.as_str())))
            .select(UserRow::as_select())
            .first(&mut connection)
            .await
            .optional()
            .map_err(|error| from_query(ACTION, error))?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: Option<&PasswordHash>,
        now: OffsetDateTime,
    ) -> Result<bool, PortError> {
        const ACTION: &str = "setting a user's password";
        let mut connection = self.pool.connection(ACTION).await?;
        let updated = diesel::update(users::table.find(id.as_uuid()))
            .set((users::password_hash.eq(hash.map(PasswordHash::as_phc)), users::updated_at.eq(now)))
            .execute(&mut connection)
            .await
            .map_err(|error| from_query(ACTION, error))?;
        Ok(updated > 0)
    }

    async fn record_code_verified(&self, id: UserId, now: OffsetDateTime) -> Result<Option<User>, PortError> {
        const ACTION: &str = "recording a verified code";
        let mut connection = self.pool.connection(ACTION).await?;
        let row = diesel::update(users::table.find(id.as_uuid()))
            .set((
                users::email_verified_at.eq(coalesce(users::email_verified_at, Some(now))),
                users::last_code_verified_at.eq(now),
                users::updated_at.eq(now),
            ))
            .returning(UserRow::as_returning())
            .get_result(&mut connection)
            .await
            .optional()
            .map_err(|error| from_query(ACTION, error))?;
        row.map(|row| row.into_user(ACTION)).transpose()
    }
}
