//! Why a sign-in use case refused or failed.

use std::time::Duration;

use crate::domain::WeakPassword;
use crate::error::Failure;

/// Why a sign-in use case (codes, registration, password log-in, reset) refused or
/// failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown address, wrong password, an account without a password, or the
    /// pending password of a registration not yet verified.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    /// The account has been disabled by an administrator, or was deleted while the
    /// sign-in ran.
    #[error("account is disabled")]
    AccountDisabled,
    /// The new password is too easy to guess; the detail says why and what helps.
    #[error("{0}")]
    PasswordTooWeak(WeakPassword),
    /// The code is wrong, already used, or none was issued.
    #[error("{}", code_invalid_detail(*attempts_remaining))]
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
    /// Too many code guesses for this address today from clients without one of the
    /// account's remembered devices: code sign-in is refused for them, even with the
    /// right code.
    #[error(
        "too many wrong codes for this address today; sign in on a device you used before, or try again later"
    )]
    CodeSignInLocked {
        /// How long until a guess may be made again.
        retry_after: Duration,
    },
    /// A new code for this address was sent too recently.
    #[error("a code was sent recently; wait before asking for another")]
    Cooldown {
        /// How long until a new code may be sent.
        retry_after: Duration,
    },
    /// Too many requests from this client or for this address.
    #[error("too many requests; try again later")]
    RateLimited {
        /// How long until the next request would be accepted.
        retry_after: Duration,
    },
    /// Every password-hashing worker is busy and its queue is full: nothing was
    /// checked. Depends on load only, never on the address.
    #[error("the server is busy; try again shortly")]
    Busy {
        /// How long to wait before trying again.
        retry_after: Duration,
    },
    /// The mail backlog is too long for a new code to arrive before it expires, or this
    /// client has too many mails queued: no code was issued. Depends on the backlog and
    /// the client only, never on the address.
    #[error("mail is backed up; try again shortly")]
    MailBacklog {
        /// How long until the backlog should be short enough.
        retry_after: Duration,
    },
    /// A backing service is down, or something unexpected broke.
    #[error(transparent)]
    Failure(#[from] Failure),
}

fn code_invalid_detail(attempts_remaining: Option<u32>) -> String {
    match attempts_remaining {
        Some(1) => "code is incorrect; 1 try left".to_owned(),
        Some(left) => format!("code is incorrect; {left} tries left"),
        None => "code is incorrect or has already been used; request a new one".to_owned(),
    }
}

service_error_conversions!(SignInError: port, throttle, start, codes, hashing);

impl SignInError {
    /// How long the client should wait, for the refusals that have a wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Cooldown { retry_after }
            | Self::RateLimited { retry_after }
            | Self::CodeSignInLocked { retry_after }
            | Self::Busy { retry_after }
            | Self::MailBacklog { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_code_says_how_many_tries_are_left() {
        let one = SignInError::CodeInvalid { attempts_remaining: Some(1) };
        assert_eq!(one.to_string(), "code is incorrect; 1 try left");
        let none = SignInError::CodeInvalid { attempts_remaining: None };
        assert!(none.to_string().contains("request a new one"));
    }

    #[test]
    fn waits_are_reported_only_for_throttles() {
        let limited = SignInError::RateLimited { retry_after: Duration::from_secs(7) };
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(SignInError::InvalidCredentials.retry_after(), None);
    }
}
