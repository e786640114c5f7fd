//! What a one-time code is for.

/// What a code is for; codes of one purpose never verify for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// Signing in: passwordless, registration and the log-in re-check share it.
    SignIn,
    /// Setting a new password.
    PasswordReset,
}

impl CodePurpose {
    /// A short stable name, usable in storage keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::PasswordReset => "password_reset",
        }
    }
}
