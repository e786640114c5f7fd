//! What happened to an account, for the application behind the service: the
//! [`AuthEvent`]s published in process and delivered to webhooks.

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{AuthMethod, SessionId, UserId};

/// The identifier of one event (a UUIDv7): the idempotency key a receiver deduplicates
/// on, the same across every retry of its delivery.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct EventId(Uuid);

impl EventId {
    /// A new, time-ordered identifier.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an identifier read from storage.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The identifier as a UUID, for storage.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for EventId {
    /// `evt_` and the UUID in simple form: the `webhook-id` header's value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "evt_{}", self.0.simple())
    }
}

/// Who ended a session that its holder did not sign out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedBy {
    /// The account's holder, from another session.
    User,
    /// An administrator.
    Admin,
    /// A newer sign-in, the account being at its session limit.
    Limit,
}

impl RevokedBy {
    /// The wire name: `user` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
            Self::Limit => "limit",
        }
    }
}

/// What happened. Each kind carries identifiers and method names only: never a code, a
/// password, a token or an address (a receiver that needs the address asks for the
/// account by its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthEventKind {
    /// An account was created (`user.created`), by the first sign-in with a code, by a
    /// confirmed registration, or by a first sign-in with a provider.
    UserCreated {
        /// How the account came to be.
        method: AuthMethod,
    },
    /// A session was opened (`user.signed_in`), by any method.
    SignedIn {
        /// How the session proved who signed in.
        method: AuthMethod,
        /// The new session.
        session_id: SessionId,
    },
    /// A session's holder signed out (`user.signed_out`).
    SignedOut {
        /// The ended session.
        session_id: SessionId,
    },
    /// The password was set anew (`password.changed`); every session was ended.
    PasswordChanged,
    /// The account's address changed (`email.changed`); neither address is carried.
    EmailChanged,
    /// The account was deleted (`user.deleted`).
    UserDeleted,
    /// Sessions were ended by someone else than the signing-out holder
    /// (`session.revoked`): one session, or every session when `session_id` is `None`.
    SessionRevoked {
        /// The ended session, or `None` for all of the account's sessions.
        session_id: Option<SessionId>,
        /// Who ended it.
        by: RevokedBy,
    },
    /// A provider identity was linked to the account (`identity.linked`).
    IdentityLinked {
        /// The provider's name (`google`, `github`, ...).
        provider: String,
    },
    /// A provider identity was unlinked (`identity.unlinked`).
    IdentityUnlinked {
        /// The provider's name.
        provider: String,
    },
}

impl AuthEventKind {
    /// The event type on the wire: `user.created`, `user.signed_in`, ...
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::UserCreated { .. } => "user.created",
            Self::SignedIn { .. } => "user.signed_in",
            Self::SignedOut { .. } => "user.signed_out",
            Self::PasswordChanged => "password.changed",
            Self::EmailChanged => "email.changed",
            Self::UserDeleted => "user.deleted",
            Self::SessionRevoked { .. } => "session.revoked",
            Self::IdentityLinked { .. } => "identity.linked",
            Self::IdentityUnlinked { .. } => "identity.unlinked",
        }
    }
}

/// One thing that happened to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEvent {
    /// The idempotency id.
    pub id: EventId,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The account it happened to.
    pub user_id: UserId,
    /// What happened.
    pub kind: AuthEventKind,
}

#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    event_type: &'static str,
    timestamp: String,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    id: String,
    user_id: UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<SessionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
}

impl AuthEvent {
    /// An event of `kind` for `user_id` at `occurred_at`, with a fresh id.
    pub fn new(user_id: UserId, kind: AuthEventKind, occurred_at: OffsetDateTime) -> Self {
        Self { id: EventId::generate(), occurred_at, user_id, kind }
    }

    /// The event type on the wire (`user.created`, ...).
    pub fn event_type(&self) -> &'static str {
        self.kind.event_type()
    }

    /// The JSON document delivered to webhooks, in the Standard Webhooks shape:
    /// `{"type": ..., "timestamp": RFC 3339, "data": {"id", "user_id", ...}}`, where
    /// `data` holds only the fields of its kind (`method`, `session_id`, `revoked_by`,
    /// `provider`).
    pub fn payload(&self) -> String {
        let mut data = Data {
            id: self.id.to_string(),
            user_id: self.user_id,
            method: None,
            session_id: None,
            revoked_by: None,
            provider: None,
        };
        match &self.kind {
            AuthEventKind::UserCreated { method } => data.method = Some(method.as_claim()),
            AuthEventKind::SignedIn { method, session_id } => {
                data.method = Some(method.as_claim());
                data.session_id = Some(*session_id);
            }
            AuthEventKind::SignedOut { session_id } => data.session_id = Some(*session_id),
            AuthEventKind::SessionRevoked { session_id, by } => {
                data.session_id = *session_id;
                data.revoked_by = Some(by.as_str());
            }
            AuthEventKind::IdentityLinked { provider } | AuthEventKind::IdentityUnlinked { provider } => {
                data.provider = Some(provider);
            }
            AuthEventKind::PasswordChanged | AuthEventKind::EmailChanged | AuthEventKind::UserDeleted => {}
        }
        let payload = Payload {
            event_type: self.event_type(),
            timestamp: self.occurred_at.format(&Rfc3339).unwrap_or_default(),
            data,
        };
        serde_json::to_string(&payload).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: AuthEventKind) -> AuthEvent {
        AuthEvent::new(UserId::generate(), kind, OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn the_payload_names_the_type_and_carries_only_ids_and_methods() {
        let session_id = SessionId::generate();
        let signed_in = event(AuthEventKind::SignedIn { method: AuthMethod::Password, session_id });
        let payload: serde_json::Value = serde_json::from_str(&signed_in.payload()).unwrap();
        assert_eq!(payload["type"], "user.signed_in");
        assert_eq!(payload["timestamp"], "1970-01-01T00:00:00Z");
        assert_eq!(payload["data"]["id"], signed_in.id.to_string());
        assert_eq!(payload["data"]["user_id"], signed_in.user_id.as_uuid().to_string());
        assert_eq!(payload["data"]["method"], "pwd");
        assert_eq!(payload["data"]["session_id"], session_id.as_uuid().to_string());
        let keys: Vec<_> = payload["data"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
    }

    #[test]
    fn every_kind_has_its_wire_type() {
        let kinds = [
            (AuthEventKind::UserCreated { method: AuthMethod::Otp }, "user.created"),
            (AuthEventKind::SignedOut { session_id: SessionId::generate() }, "user.signed_out"),
            (AuthEventKind::PasswordChanged, "password.changed"),
            (AuthEventKind::EmailChanged, "email.changed"),
            (AuthEventKind::UserDeleted, "user.deleted"),
            (AuthEventKind::SessionRevoked { session_id: None, by: RevokedBy::Admin }, "session.revoked"),
            (AuthEventKind::IdentityLinked { provider: "google".into() }, "identity.linked"),
            (AuthEventKind::IdentityUnlinked { provider: "github".into() }, "identity.unlinked"),
        ];
        for (kind, wire) in kinds {
            let payload: serde_json::Value = serde_json::from_str(&event(kind).payload()).unwrap();
            assert_eq!(payload["type"], wire);
        }
    }

    #[test]
    fn event_ids_are_time_ordered_and_prefixed() {
        let (first, second) = (EventId::generate(), EventId::generate());
        assert!(first < second);
        assert!(first.to_string().starts_with("evt_") && first.to_string().len() == 36);
    }
}
