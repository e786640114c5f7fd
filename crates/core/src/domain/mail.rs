//! The messages the service sends, independent of how they are delivered.

use std::fmt;
use std::time::Duration;

use super::{AccountAction, EmailAddress, OtpCode};

/// A link that carries a secret (the undo link of an address change): compared and
/// cloned like text, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretLink(String);

impl SecretLink {
    /// Wraps `link`.
    pub fn new(link: String) -> Self {
        Self(link)
    }

    /// The link, to put in the message.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretLink(***)")
    }
}

/// Why a message is sent; carries what its body needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailKind {
    /// A code that signs the person in (passwordless).
    SignInCode {
        /// The code to enter.
        code: OtpCode,
        /// How long it stays valid.
        expires_in: Duration,
    },
    /// A code that confirms a new registration.
    RegistrationCode {
        /// The code to enter.
        code: OtpCode,
        /// How long it stays valid.
        expires_in: Duration,
    },
    /// A code asked for at password log-in because the last code check is too old.
    LoginCheckCode {
        /// The code to enter.
        code: OtpCode,
        /// How long it stays valid.
        expires_in: Duration,
    },
    /// A code that allows setting a new password.
    PasswordResetCode {
        /// The code to enter.
        code: OtpCode,
        /// How long it stays valid.
        expires_in: Duration,
    },
    /// Someone tried to register the address, which already has an account.
    AccountExists,
    /// Someone asked to reset the password of an address that has no account (so a
    /// reset request does the same work, and moves the same counters, for every
    /// address).
    PasswordResetNoAccount,
    /// Code sign-in for the address was locked for clients without one of the
    /// account's remembered devices, after too many wrong codes in a day.
    CodeSignInLocked,
    /// A code, to the account's own address, that confirms a change to the account
    /// (its password, its address, or its deletion).
    AccountActionCode {
        /// What the code confirms.
        action: AccountAction,
        /// The code to enter.
        code: OtpCode,
        /// How long it stays valid.
        expires_in: Duration,
    },
    /// A code, to a new address, that proves it before the account moves to it.
    NewEmailCode {
        /// The code to enter.
        code: OtpCode,
        /// How long it stays valid.
        expires_in: Duration,
    },
    /// Sent instead of [`MailKind::NewEmailCode`] when the new address already has an
    /// account of its own, so the answer to the change is the same either way.
    NewEmailTaken,
    /// To the old address after the account moved to a new one: the new one masked,
    /// and a link to undo the change within 72 hours.
    EmailChanged {
        /// The new address with most of it hidden (`b***@n***.org`).
        new_email_masked: String,
        /// The page's address with the single-use undo token.
        undo_link: SecretLink,
    },
    /// The account's password was changed; its other sessions were ended.
    PasswordChanged,
    /// The account was deleted at its owner's request.
    AccountDeleted,
    /// The account signed in from a device it had not used before.
    NewSignIn {
        /// The device as its user agent and network describe it.
        device: String,
    },
}

impl MailKind {
    /// A stable, code-free name for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::SignInCode { .. } => "sign_in_code",
            Self::RegistrationCode { .. } => "registration_code",
            Self::LoginCheckCode { .. } => "login_check_code",
            Self::PasswordResetCode { .. } => "password_reset_code",
            Self::AccountExists => "account_exists",
            Self::PasswordResetNoAccount => "password_reset_no_account",
            Self::CodeSignInLocked => "code_sign_in_locked",
            Self::AccountActionCode { action, .. } => match action {
                AccountAction::ChangePassword => "change_password_code",
                AccountAction::ChangeEmail => "change_email_code",
                AccountAction::DeleteAccount => "delete_account_code",
            },
            Self::NewEmailCode { .. } => "new_email_code",
            Self::NewEmailTaken => "new_email_taken",
            Self::EmailChanged { .. } => "email_changed",
            Self::PasswordChanged => "password_changed",
            Self::AccountDeleted => "account_deleted",
            Self::NewSignIn { .. } => "new_sign_in",
        }
    }

    /// The request flow that sent it, for metrics: the same for every message a flow
    /// can send, so no series tells an address with an account from one without
    /// (`register` sends a code or an "account exists" notice, `password/forgot` a
    /// reset code or a "no account" notice).
    pub fn flow(&self) -> &'static str {
        match self {
            Self::SignInCode { .. } => "sign_in",
            Self::RegistrationCode { .. } | Self::AccountExists => "registration",
            Self::LoginCheckCode { .. } => "login",
            Self::PasswordResetCode { .. } | Self::PasswordResetNoAccount => "password_reset",
            Self::CodeSignInLocked => "lockout",
            Self::AccountActionCode { .. } => "account_confirm",
            Self::NewEmailCode { .. } | Self::NewEmailTaken => "email_change",
            Self::EmailChanged { .. }
            | Self::PasswordChanged
            | Self::AccountDeleted
            | Self::NewSignIn { .. } => "account_notice",
        }
    }

    /// The code the message carries, if any.
    pub fn code(&self) -> Option<&OtpCode> {
        match self {
            Self::SignInCode { code, .. }
            | Self::RegistrationCode { code, .. }
            | Self::LoginCheckCode { code, .. }
            | Self::PasswordResetCode { code, .. }
            | Self::AccountActionCode { code, .. }
            | Self::NewEmailCode { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The code's lifetime in words ("10 minutes"), if the message carries a code.
    pub fn lifetime_phrase(&self) -> Option<String> {
        self.expires_in().map(|ttl| minutes_phrase(ttl.as_secs()))
    }

    /// How long the code the message carries stays valid, if it carries one.
    pub fn expires_in(&self) -> Option<Duration> {
        match self {
            Self::SignInCode { expires_in, .. }
            | Self::RegistrationCode { expires_in, .. }
            | Self::LoginCheckCode { expires_in, .. }
            | Self::PasswordResetCode { expires_in, .. }
            | Self::AccountActionCode { expires_in, .. }
            | Self::NewEmailCode { expires_in, .. } => Some(*expires_in),
            _ => None,
        }
    }
}

/// One message to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailMessage {
    /// The recipient.
    pub to: EmailAddress,
    /// What the message is for.
    pub kind: MailKind,
}

impl MailMessage {
    /// The subject line, naming the product.
    pub fn subject(&self, product: &str) -> String {
        match &self.kind {
            MailKind::SignInCode { .. } => format!("Your {product} sign-in code"),
            MailKind::RegistrationCode { .. } => format!("Confirm your {product} account"),
            MailKind::LoginCheckCode { .. } => format!("Your {product} log-in code"),
            MailKind::PasswordResetCode { .. } => format!("Reset your {product} password"),
            MailKind::AccountExists => format!("You already have a {product} account"),
            MailKind::PasswordResetNoAccount => format!("No {product} account for this address"),
            MailKind::CodeSignInLocked => format!("{product} sign-in by code paused for this address"),
            MailKind::AccountActionCode { action, .. } => format!("Confirm: {} ({product})", action.phrase()),
            MailKind::NewEmailCode { .. } | MailKind::NewEmailTaken => {
                format!("Confirm your new {product} address")
            }
            MailKind::EmailChanged { .. } => format!("Your {product} address was changed"),
            MailKind::PasswordChanged => format!("Your {product} password was changed"),
            MailKind::AccountDeleted => format!("Your {product} account was deleted"),
            MailKind::NewSignIn { .. } => format!("New sign-in to your {product} account"),
        }
    }

    /// A plain-text body. Adapters with richer templates may render their own.
    pub fn text_body(&self, product: &str) -> String {
        let lifetime = self.kind.lifetime_phrase().unwrap_or_default();
        let code = self.kind.code().map(OtpCode::expose).unwrap_or_default();
        let ignore = "If you did not ask for this, you can ignore this message.";
        match &self.kind {
            MailKind::SignInCode { .. } => format!(
                "Your {product} sign-in code is:\n\n    {code}\n\nIt expires in {lifetime} and works once.\n\n{ignore}\n"
            ),
            MailKind::RegistrationCode { .. } => format!(
                "Welcome to {product}. Confirm your email address with this code:\n\n    {code}\n\nIt expires in {lifetime} and works once.\n\n{ignore}\n"
            ),
            MailKind::LoginCheckCode { .. } => format!(
                "Someone, hopefully you, entered your {product} password. To finish logging in, enter:\n\n    {code}\n\nIt expires in {lifetime} and works once. If this was not you, change your password.\n"
            ),
            MailKind::PasswordResetCode { .. } => format!(
                "Use this code to set a new {product} password:\n\n    {code}\n\nIt expires in {lifetime} and works once. Setting a new password signs you out everywhere.\n\n{ignore}\n"
            ),
            MailKind::AccountExists => format!(
                "Someone tried to register a new {product} account with this address, which already has one.\n\nYou can sign in with a code, or reset your password if you forgot it.\n\n{ignore}\n"
            ),
            MailKind::PasswordResetNoAccount => format!(
                "Someone asked to reset the {product} password of this address, but it has no {product} account, so nothing was changed.\n\nYou can create one by signing in with a code sent to this address.\n\n{ignore}\n"
            ),
            MailKind::CodeSignInLocked => format!(
                "Too many wrong sign-in codes were entered for your {product} account today, so sign-in by code is paused for this address on devices you have not used before.\n\nDevices you already signed in on keep working. Nobody got in: a code is still needed.\n"
            ),
            MailKind::AccountActionCode { action, .. } => format!(
                "To confirm this change to your {product} account ({}), enter:\n\n    {code}\n\nIt expires in {lifetime} and works once. If you did not ask for this, someone may be using one of your sessions: sign out everywhere else and change your password.\n",
                action.phrase()
            ),
            MailKind::NewEmailCode { .. } => format!(
                "Someone, hopefully you, asked to move a {product} account to this address. To confirm it, enter:\n\n    {code}\n\nIt expires in {lifetime} and works once.\n\n{ignore}\n"
            ),
            MailKind::NewEmailTaken => format!(
                "Someone asked to move a {product} account to this address, but this address already has a {product} account of its own, so it cannot be used. No code was sent and nothing was changed.\n\n{ignore}\n"
            ),
            MailKind::EmailChanged { new_email_masked, undo_link } => format!(
                "The address of your {product} account was changed to {new_email_masked}. This address no longer signs in.\n\nIf this was not you, undo the change within 72 hours (the link works once; it moves the account back to this address and signs out every session):\n\n    {}\n",
                undo_link.expose()
            ),
            MailKind::PasswordChanged => format!(
                "The password of your {product} account was changed, and every other session was signed out.\n\nIf this was not you, reset your password now with \"Forgot password\" and sign out everywhere else.\n"
            ),
            MailKind::AccountDeleted => format!(
                "Your {product} account was deleted at your request, with its sessions, linked sign-ins and devices. You can register again with this address at any time.\n"
            ),
            MailKind::NewSignIn { device } => format!(
                "Your {product} account was just signed in to from a device it had not used before:\n\n    {device}\n\nIf this was you, there is nothing to do. If not, open the {product} page, sign in, and end that session under \"Sessions\" (or sign out everywhere else), then change your password.\n"
            ),
        }
    }
}

fn minutes_phrase(seconds: u64) -> String {
    let minutes = seconds.div_ceil(60).max(1);
    if minutes == 1 { "1 minute".to_owned() } else { format!("{minutes} minutes") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: MailKind) -> MailMessage {
        MailMessage { to: EmailAddress::parse("ann@example.com").unwrap(), kind }
    }

    #[test]
    fn code_messages_carry_the_code_and_its_lifetime() {
        let code = OtpCode::parse("123456", 6).unwrap();
        let mail = message(MailKind::SignInCode { code, expires_in: Duration::from_secs(300) });
        let body = mail.text_body("Acme");
        assert!(body.contains("123456"));
        assert!(body.contains("5 minutes"));
        assert_eq!(mail.subject("Acme"), "Your Acme sign-in code");
    }

    #[test]
    fn the_notice_carries_no_code() {
        let mail = message(MailKind::AccountExists);
        assert!(mail.kind.code().is_none());
        assert!(!mail.text_body("Acme").chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn labels_never_include_the_code() {
        let code = OtpCode::parse("654321", 6).unwrap();
        let kind = MailKind::PasswordResetCode { code, expires_in: Duration::from_secs(60) };
        assert_eq!(kind.label(), "password_reset_code");
        assert!(!format!("{kind:?}").contains("654321"));
    }
}
