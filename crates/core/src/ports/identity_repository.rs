use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{EmailAddress, UserId};
use crate::error::PortError;

/// An identity at an OAuth / OpenID Connect provider, linked to an account.
///
/// It is keyed by (`provider`, `subject`): one provider identity belongs to at most one
/// account, while one account may have several identities (at several providers, or
/// several at one provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// The provider's name (`google`, `github`), as [`crate::ports::OAuthProvider::name`].
    pub provider: String,
    /// The provider's stable subject identifier for the person; compared exactly
    /// (case-sensitive).
    pub subject: String,
    /// The account the identity signs in to.
    pub user_id: UserId,
    /// The verified address the provider reported when the identity was linked.
    pub email: EmailAddress,
    /// When the identity was linked.
    pub linked_at: OffsetDateTime,
}

/// Durable storage of the provider identities linked to accounts.
///
/// (`provider`, `subject`) is unique: two links of one provider identity never both
/// succeed, whatever the interleaving of concurrent calls, across all processes that
/// share the storage. Providers and subjects are compared exactly, byte for byte.
#[async_trait]
pub trait IdentityRepository: Send + Sync + std::fmt::Debug {
    /// Stores a new link exactly as given.
    ///
    /// # Errors
    /// MUST return [`PortError::IdentityTaken`] when (`provider`, `subject`) is already
    /// linked (to any account, this one included), including when another `link` of that
    /// identity wins a race; nothing is changed then. [`PortError::AccountGone`] when
    /// `user_id` names no account (an adapter that checks it: an account deleted while
    /// the sign-in ran); [`PortError::Unavailable`] when storage cannot be reached;
    /// [`PortError::Failed`] when storage refuses the link for another reason.
    async fn link(&self, identity: &LinkedIdentity) -> Result<(), PortError>;

    /// The link of this provider identity, if any.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn find(&self, provider: &str, subject: &str) -> Result<Option<LinkedIdentity>, PortError>;

    /// Every identity linked to the account, oldest `linked_at` first, ties broken by
    /// `provider` then `subject` in byte order; empty when there are none or the account
    /// is unknown.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn list_for_user(&self, user_id: UserId) -> Result<Vec<LinkedIdentity>, PortError>;

    /// Removes every identity at `provider` linked to the account; returns how many
    /// were removed (0 when none). Identities of other accounts are never touched.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn unlink(&self, user_id: UserId, provider: &str) -> Result<u64, PortError>;
}
