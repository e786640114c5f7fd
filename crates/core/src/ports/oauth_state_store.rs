use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::crypto::{StateHash, TokenHash};
use crate::error::PortError;

/// How long past its expiry a pending authorization is kept, so that a state presented
/// late is told apart (`oauth_state_expired`) from one never issued or already used.
pub const EXPIRED_STATE_RETENTION: Duration = Duration::from_secs(15 * 60);

/// A provider sign-in that was started and waits for its callback: what the server must
/// remember between the redirect to the provider and the browser's return.
///
/// The PKCE verifier and the nonce are secrets of this one sign-in; `Debug` hides them.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// The provider the sign-in was started with (`google`, `github`).
    pub provider: String,
    /// The PKCE verifier whose S256 challenge went to the provider.
    pub code_verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The redirect URI the provider was given; the code is only valid with it.
    pub redirect_uri: String,
    /// Keyed hash of the client-binding secret `start` gave the client that began the
    /// sign-in; the callback must present that secret.
    pub client_binding: TokenHash,
    /// When the state stops being accepted.
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("provider", &self.provider)
            .field("code_verifier", &"***")
            .field("nonce", &"***")
            .field("redirect_uri", &self.redirect_uri)
            .field("client_binding", &"***")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Short-lived storage of pending provider sign-ins, keyed by a keyed hash of their
/// `state` (the state is a bearer secret and is never stored in clear).
///
/// `take` is atomic across all processes sharing the store: of any number of
/// concurrent `take`s of one key, at most one gets the record.
#[async_trait]
pub trait OAuthStateStore: Send + Sync + fmt::Debug {
    /// Stores `pending` under `key` (keys are digests of fresh random states, so they
    /// never collide), keeping it until `pending.expires_at` plus
    /// [`EXPIRED_STATE_RETENTION`] as seen from `now`, and no longer than that. A record
    /// whose retention has already passed at `now` MUST NOT be stored.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn put(
        &self,
        key: &StateHash,
        pending: &PendingAuthorization,
        now: OffsetDateTime,
    ) -> Result<(), PortError>;

    /// Removes the record under `key` and returns it exactly as stored, or `None` when
    /// there is none (never stored, already taken, or dropped after its retention). A
    /// record past its `expires_at` but still retained MUST be returned: the caller
    /// judges expiry.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached; [`PortError::Failed`]
    /// when the stored record cannot be read.
    async fn take(&self, key: &StateHash) -> Result<Option<PendingAuthorization>, PortError>;
}
