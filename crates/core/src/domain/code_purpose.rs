//! What a one-time code is for.

/// What a code is for; codes of one purpose never verify for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// Signing in: passwordless, registration and the log-in re-check share it.
    SignIn,
    /// Setting a new password.
    PasswordReset,
    /// Confirming, from the account's own address, a change of password.
    ChangePassword,
    /// Confirming, from the account's own address, a change of address.
    ChangeEmail,
    /// Proving the new address of an address change (sent to that address).
    ConfirmNewEmail,
    /// Confirming, from the account's own address, its deletion.
    DeleteAccount,
    /// Undoing an address change from the link mailed to the old address (stored per
    /// account, not per address; lives 72 hours).
    UndoEmailChange,
}

impl CodePurpose {
    /// A short stable name, usable in storage keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::PasswordReset => "password_reset",
            Self::ChangePassword => "change_password",
            Self::ChangeEmail => "change_email",
            Self::ConfirmNewEmail => "confirm_new_email",
            Self::DeleteAccount => "delete_account",
            Self::UndoEmailChange => "undo_email_change",
        }
    }
}

/// A change to an account its owner confirms with a fresh code to the account's
/// address (or with the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountAction {
    /// Setting a new password.
    ChangePassword,
    /// Moving the account to another address.
    ChangeEmail,
    /// Deleting the account.
    DeleteAccount,
}

impl AccountAction {
    /// The purpose of the codes that confirm it.
    pub fn purpose(self) -> CodePurpose {
        match self {
            Self::ChangePassword => CodePurpose::ChangePassword,
            Self::ChangeEmail => CodePurpose::ChangeEmail,
            Self::DeleteAccount => CodePurpose::DeleteAccount,
        }
    }

    /// What it does, in words, for messages.
    pub fn phrase(self) -> &'static str {
        match self {
            Self::ChangePassword => "change your password",
            Self::ChangeEmail => "change your address",
            Self::DeleteAccount => "delete your account",
        }
    }
}
