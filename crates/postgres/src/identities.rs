//! Provider identities in the `identities` table.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use otp_core::ports::{IdentityRepository, LinkedIdentity};
use otp_core::{EmailAddress, PortError, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::corrupt;
use crate::pool::PgPool;
use crate::schema::identities;

/// One row of `identities`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = identities, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
struct IdentityRow {
    provider: String,
    subject: String,
    user_id: Uuid,
    email: String,
    linked_at: OffsetDateTime,
}

impl From<&LinkedIdentity> for IdentityRow {
    fn from(identity: &LinkedIdentity) -> Self {
        Self {
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            user_id: identity.user_id.as_uuid(),
            email: identity.email.as_str().to_owned(),
            linked_at: identity.linked_at,
        }
    }
}

impl IdentityRow {
    fn into_identity(self, action: &'static str) -> Result<LinkedIdentity, PortError> {
        let email = EmailAddress::parse(&self.email).map_err(|error| {
            corrupt(action, format!("stored address of a {} identity is invalid: {error}", self.provider))
        })?;
        Ok(LinkedIdentity {
            provider: self.provider,
            subject: self.subject,
            user_id: UserId::from_uuid(self.user_id),
            email,
            linked_at: self.linked_at,
        })
    }
}

/// PostgreSQL [`IdentityRepository`] on the `identities` table, keyed by
/// (provider, subject) compared byte for byte (`COLLATE "C"`).
///
/// Each identity belongs to a row of `users` (a foreign key, deleted with it):
/// linking to an unknown account fails with `PortError::AccountGone`. A link that
/// collides with the key, even in a race, fails with `PortError::IdentityTaken`.
#[derive(Debug, Clone)]
pub struct PgIdentityRepository {
    pool: PgPool,
}

impl PgIdentityRepository {
    /// A repository on `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl IdentityRepository for PgIdentityRepository {
    async fn link(&self, identity: &LinkedIdentity) -> Result<(), PortError> {
        const ACTION: &str = "linking a provider identity";
        self.pool
            .run(ACTION, async |connection| {
                diesel::insert_into(identities::table)
                    .values(IdentityRow::from(identity))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn find(&self, provider: &str, subject: &str) -> Result<Option<LinkedIdentity>, PortError> {
        const ACTION: &str = "finding a provider identity";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                identities::table
                    .find((provider, subject))
                    .select(IdentityRow::as_select())
                    .first(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_identity(ACTION)).transpose()
    }

    async fn list_for_user(&self, user_id: UserId) -> Result<Vec<LinkedIdentity>, PortError> {
        const ACTION: &str = "listing the identities of a user";
        let rows = self
            .pool
            .run(ACTION, async |connection| {
                identities::table
                    .filter(identities::user_id.eq(user_id.as_uuid()))
                    .order((
                        identities::linked_at.asc(),
                        identities::provider.asc(),
                        identities::subject.asc(),
                    ))
                    .select(IdentityRow::as_select())
                    .load(connection)
                    .await
            })
            .await?;
        rows.into_iter().map(|row| row.into_identity(ACTION)).collect()
    }

    async fn unlink(&self, user_id: UserId, provider: &str) -> Result<u64, PortError> {
        const ACTION: &str = "unlinking a provider identity";
        let removed = self
            .pool
            .run(ACTION, async |connection| {
                diesel::delete(
                    identities::table
                        .filter(identities::user_id.eq(user_id.as_uuid()))
                        .filter(identities::provider.eq(provider)),
                )
                .execute(connection)
                .await
            })
            .await?;
        Ok(removed as u64)
    }
}
