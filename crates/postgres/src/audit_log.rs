//! The admin audit log in the `audit_log` table.

use std::net::IpAddr;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use ipnet::IpNet;
use otp_core::domain::{AdminAction, AuditEntry, AuditEntryId};
use otp_core::ports::AuditLog;
use otp_core::{EmailAddress, PortError, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::corrupt;
use crate::pool::PgPool;
use crate::schema::audit_log;

/// One row of `audit_log`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
struct AuditRow {
    id: Uuid,
    at: OffsetDateTime,
    actor_id: Uuid,
    actor_email: String,
    action: String,
    target_id: Option<Uuid>,
    target_email: Option<String>,
    ip: Option<IpNet>,
}

impl From<&AuditEntry> for AuditRow {
    fn from(entry: &AuditEntry) -> Self {
        Self {
            id: entry.id.as_uuid(),
            at: entry.at,
            actor_id: entry.actor_id.as_uuid(),
            actor_email: entry.actor_email.as_str().to_owned(),
            action: entry.action.as_str().to_owned(),
            target_id: entry.target_id.map(|id| id.as_uuid()),
            target_email: entry.target_email.as_ref().map(|email| email.as_str().to_owned()),
            ip: entry.ip.map(IpNet::from),
        }
    }
}

impl AuditRow {
    fn into_entry(self, action: &'static str) -> Result<AuditEntry, PortError> {
        let id = self.id;
        let address = |text: String| {
            EmailAddress::parse(&text).map_err(|error| {
                corrupt(action, format!("stored address of audit entry {id} is invalid: {error}"))
            })
        };
        let done = self.action.parse::<AdminAction>().map_err(|error| {
            corrupt(action, format!("stored action of audit entry {id} is invalid: {error}"))
        })?;
        Ok(AuditEntry {
            id: AuditEntryId::from_uuid(id),
            at: self.at,
            actor_id: UserId::from_uuid(self.actor_id),
            actor_email: address(self.actor_email)?,
            action: done,
            target_id: self.target_id.map(UserId::from_uuid),
            target_email: self.target_email.map(address).transpose()?,
            ip: self.ip.map(|network| -> IpAddr { network.addr() }),
        })
    }
}

/// PostgreSQL [`AuditLog`] on the `audit_log` table. Entries name accounts by id and
/// address without a foreign key, so they outlive the accounts; the listing walks the
/// primary key (UUIDv7 ids) backwards.
#[derive(Debug, Clone)]
pub struct PgAuditLog {
    pool: PgPool,
}

impl PgAuditLog {
    /// A log on `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl AuditLog for PgAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), PortError> {
        const ACTION: &str = "appending an audit entry";
        self.pool
            .run(ACTION, async |connection| {
                diesel::insert_into(audit_log::table).values(AuditRow::from(entry)).execute(connection).await
            })
            .await?;
        Ok(())
    }

    async fn list(&self, before: Option<AuditEntryId>, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        const ACTION: &str = "listing audit entries";
        let mut select = audit_log::table.select(AuditRow::as_select()).into_boxed();
        if let Some(before) = before {
            select = select.filter(audit_log::id.lt(before.as_uuid()));
        }
        let query = select.order(audit_log::id.desc()).limit(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = self.pool.run(ACTION, async |connection| query.load(connection).await).await?;
        rows.into_iter().map(|row| row.into_entry(ACTION)).collect()
    }

    async fn list_for_user(&self, user_id: UserId, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        const ACTION: &str = "listing the audit entries of a user";
        let id = user_id.as_uuid();
        let query = audit_log::table
            .select(AuditRow::as_select())
            .filter(audit_log::actor_id.eq(id).or(audit_log::target_id.eq(id)))
            .order(audit_log::id.desc())
            .limit(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = self.pool.run(ACTION, async |connection| query.load(connection).await).await?;
        rows.into_iter().map(|row| row.into_entry(ACTION)).collect()
    }

    async fn pseudonymise(&self, user_id: UserId, pseudonym: &EmailAddress) -> Result<u64, PortError> {
        const ACTION: &str = "pseudonymising the audit entries of a user";
        let (id, pseudonym) = (user_id.as_uuid(), pseudonym.as_str());
        let changed = self
            .pool
            .transaction(ACTION, async |connection| {
                let actor = diesel::update(audit_log::table.filter(audit_log::actor_id.eq(id)))
                    .set(audit_log::actor_email.eq(pseudonym))
                    .returning(audit_log::id)
                    .get_results::<Uuid>(connection)
                    .await?;
                let target = diesel::update(
                    audit_log::table
                        .filter(audit_log::target_id.eq(id))
                        .filter(audit_log::target_email.is_not_null()),
                )
                .set(audit_log::target_email.eq(pseudonym))
                .returning(audit_log::id)
                .get_results::<Uuid>(connection)
                .await?;
                let changed: std::collections::HashSet<Uuid> = actor.into_iter().chain(target).collect();
                Ok(changed.len())
            })
            .await?;
        Ok(changed as u64)
    }
}
