//! The messages the service sends, independent of how they are delivered.

use std::fmt;
use std::time::Duration;

use super::{AccountAction, ClientContext, EmailAddress, Locale, OtpCode, User};

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
    /// The language to write it in: the account's stored locale, else the one the
    /// request asked for; `None` lets the renderer use its default (`DEFAULT_LOCALE`).
    pub locale: Option<Locale>,
}

impl MailMessage {
    /// A message of `kind` to `to`, in the renderer's default language.
    pub fn new(to: EmailAddress, kind: MailKind) -> Self {
        Self { to, kind, locale: None }
    }

    /// The same message in `locale` (unchanged when `None`).
    #[must_use]
    pub fn in_locale(mut self, locale: Option<Locale>) -> Self {
        if locale.is_some() {
            self.locale = locale;
        }
        self
    }

    /// The same message in its reader's language: the account's stored locale, else the
    /// one `client`'s request asked for (unchanged when neither names one).
    #[must_use]
    pub fn in_language_of(self, user: Option<&User>, client: &ClientContext) -> Self {
        self.in_locale(client.locale.clone()).in_locale(user.and_then(|user| user.locale.clone()))
    }
}

fn minutes_phrase(seconds: u64) -> String {
    let minutes = seconds.div_ceil(60).max(1);
    if minutes == 1 { "1 minute".to_owned() } else { format!("{minutes} minutes") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_kinds_carry_the_code_and_its_lifetime() {
        let code = OtpCode::parse("123456", 6).unwrap();
        let kind = MailKind::SignInCode { code, expires_in: Duration::from_secs(300) };
        assert_eq!(kind.code().map(OtpCode::expose), Some("123456"));
        assert_eq!(kind.lifetime_phrase().as_deref(), Some("5 minutes"));
        assert!(MailKind::AccountExists.code().is_none());
    }

    #[test]
    fn a_locale_is_set_only_when_given() {
        let to = EmailAddress::parse("ann@example.com").unwrap();
        let french = Locale::parse("fr").unwrap();
        let mail = MailMessage::new(to, MailKind::AccountExists).in_locale(Some(french.clone()));
        assert_eq!(mail.clone().in_locale(None).locale, Some(french));
        assert_eq!(mail.in_locale(Some(Locale::parse("de").unwrap())).locale.unwrap().as_str(), "de");
    }

    #[test]
    fn labels_never_include_the_code() {
        let code = OtpCode::parse("654321", 6).unwrap();
        let kind = MailKind::PasswordResetCode { code, expires_in: Duration::from_secs(60) };
        assert_eq!(kind.label(), "password_reset_code");
        assert!(!format!("{kind:?}").contains("654321"));
    }
}
