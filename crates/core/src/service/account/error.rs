//! Why an account self-service use case refused or failed.

use std::time::Duration;

use crate::domain::WeakPassword;
use crate::error::Failure;

/// Why a change the signed-in owner asked for to their own account was refused or
/// failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The confirmation is missing or of the wrong kind: the current password for an
    /// account that has one, a fresh code otherwise (or either, where allowed).
    #[error("{0}")]
    ConfirmationRequired(&'static str),
    /// The current password is wrong, or the account has none.
    #[error("the current password is incorrect")]
    InvalidCredentials,
    /// The new password is too easy to guess; the detail says why and what helps.
    #[error("{0}")]
    PasswordTooWeak(WeakPassword),
    /// The code is wrong, already used, or none was issued.
    #[error("code is incorrect or has already been used")]
    CodeInvalid {
        /// Tries left on the current code, when one is active.
        attempts_remaining: Option<u32>,
    },
    /// The code's lifetime has passed.
    #[error("code has expired; request a new one")]
    CodeExpired,
    /// Too many wrong tries: the code is dead even if the right digits are entered now.
    #[error("too many wrong codes; request a new one")]
    CodeAttemptsExceeded,
    /// A code for this change was sent too recently.
    #[error("a code was sent recently; wait before asking for another")]
    Cooldown {
        /// How long until a new code may be sent.
        retry_after: Duration,
    },
    /// The new address is the account's current one.
    #[error("the new address is the current one")]
    SameEmail,
    /// The account cannot move to the address: another account took it after the
    /// code was sent (or, for an undo, after the change).
    #[error("the address now belongs to another account")]
    EmailTaken,
    /// The undo link is malformed, wrong, expired or already used.
    #[error("the undo link is invalid, expired or already used")]
    UndoInvalid,
    /// No identity at this provider is linked to the account.
    #[error("no identity at this provider is linked to the account")]
    IdentityNotFound,
    /// Unlinking would leave the account without a way to sign in it has used.
    #[error(
        "this is the account's last way to sign in: set a password (change password with a code) before unlinking it"
    )]
    LastSignInMethod,
    /// Too many requests from this client or for this address.
    #[error("too many requests; try again later")]
    RateLimited {
        /// How long until the next request would be accepted.
        retry_after: Duration,
    },
    /// Every password-hashing worker is busy and its queue is full: nothing was
    /// checked or changed. Depends on load only.
    #[error("the server is busy; try again shortly")]
    Busy {
        /// How long to wait before trying again.
        retry_after: Duration,
    },
    /// A backing service is down, or something unexpected broke.
    #[error(transparent)]
    Failure(#[from] Failure),
}

service_error_conversions!(AccountError: port, throttle, codes, hashing);

impl AccountError {
    /// How long the client should wait, for the refusals that have a wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Cooldown { retry_after }
            | Self::RateLimited { retry_after }
            | Self::Busy { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}
