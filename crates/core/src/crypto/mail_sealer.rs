//! Authenticated encryption of queued mail, so an outbox (and its backups) never holds a
//! code in clear.

use std::fmt;
use std::time::Duration;

use pasetors::keys::SymmetricKey;
use pasetors::token::UntrustedToken;
use pasetors::version4::{LocalToken, V4};
use pasetors::{Local, version4};
use serde::{Deserialize, Serialize};

use super::KeyedHasher;
use crate::domain::OutboxId;
use crate::domain::{AccountAction, EmailAddress, Locale, MailKind, MailMessage, OtpCode, SecretLink};

/// Why a sealed message could not be opened or made.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The payload was not sealed with this key for this message, or was altered.
    #[error("the sealed message does not authenticate")]
    Unauthentic,
    /// The payload authenticated but does not describe a message.
    #[error("the sealed message is malformed: {0}")]
    Malformed(String),
    /// Encryption failed.
    #[error("sealing failed: {0}")]
    Seal(String),
}

/// Encrypts and authenticates [`MailMessage`]s with PASETO v4.local under a key derived
/// from the server secret. Each payload is bound to its [`OutboxId`], so payloads cannot be
/// swapped between queued messages.
#[derive(Clone)]
pub struct MailSealer {
    key: SymmetricKey<V4>,
}

/// The stored form of a message: plain fields only, rebuilt through the domain's parsers.
#[derive(Serialize, Deserialize)]
struct Envelope {
    to: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in_seconds: Option<u64>,
    /// The text a notice shows (a masked address, a device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// The link a notice carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    /// Absent in entries queued before languages existed: they render in the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locale: Option<String>,
}

impl MailSealer {
    /// A sealer keyed from the server secret.
    pub fn new(hasher: &KeyedHasher) -> Self {
        let key = hasher.derive_key("mail-outbox-v1");
        // A 32-byte key is always a valid v4.local key.
        let key = SymmetricKey::<V4>::from(&key).unwrap_or_else(|_| unreachable!("32-byte v4.local key"));
        Self { key }
    }

    /// Seals `message` for the outbox entry `id`.
    ///
    /// # Errors
    /// [`SealError::Seal`] when the platform's random source fails.
    pub fn seal(&self, id: OutboxId, message: &MailMessage) -> Result<String, SealError> {
        let envelope = Envelope {
            to: message.to.as_str().to_owned(),
            kind: message.kind.label().to_owned(),
            code: message.kind.code().map(|code| code.expose().to_owned()),
            expires_in_seconds: message.kind.expires_in().map(|ttl| ttl.as_secs()),
            detail: match &message.kind {
                MailKind::EmailChanged { new_email_masked, .. } => Some(new_email_masked.clone()),
                MailKind::NewSignIn { device } => Some(device.clone()),
                _ => None,
            },
            link: match &message.kind {
                MailKind::EmailChanged { undo_link, .. } => Some(undo_link.expose().to_owned()),
                _ => None,
            },
            locale: message.locale.as_ref().map(|locale| locale.as_str().to_owned()),
        };
        let payload = serde_json::to_vec(&envelope).map_err(|error| SealError::Seal(error.to_string()))?;
        LocalToken::encrypt(&self.key, &payload, None, Some(id.to_string().as_bytes()))
            .map_err(|error| SealError::Seal(error.to_string()))
    }

    /// Opens what [`seal`](Self::seal) made for `id`.
    ///
    /// # Errors
    /// [`SealError::Unauthentic`] for another key, another entry or an altered payload;
    /// [`SealError::Malformed`] for a payload that is not a message.
    pub fn open(&self, id: OutboxId, sealed: &str) -> Result<MailMessage, SealError> {
        let token = UntrustedToken::<Local, V4>::try_from(sealed).map_err(|_| SealError::Unauthentic)?;
        let trusted = version4::LocalToken::decrypt(&self.key, &token, None, Some(id.to_string().as_bytes()))
            .map_err(|_| SealError::Unauthentic)?;
        let envelope: Envelope = serde_json::from_str(trusted.payload())
            .map_err(|error| SealError::Malformed(error.to_string()))?;
        envelope.into_message()
    }
}

impl Envelope {
    fn into_message(self) -> Result<MailMessage, SealError> {
        let malformed = |what: &str| SealError::Malformed(what.to_owned());
        let to = EmailAddress::parse(&self.to).map_err(|_| malformed("recipient"))?;
        let code = || -> Result<(OtpCode, Duration), SealError> {
            let digits = self.code.as_deref().ok_or_else(|| malformed("missing code"))?;
            let code = OtpCode::parse(digits, digits.len()).map_err(|_| malformed("code"))?;
            let ttl = self.expires_in_seconds.ok_or_else(|| malformed("missing lifetime"))?;
            Ok((code, Duration::from_secs(ttl)))
        };
        let kind = match self.kind.as_str() {
            "sign_in_code" => code().map(|(code, expires_in)| MailKind::SignInCode { code, expires_in })?,
            "registration_code" => {
                code().map(|(code, expires_in)| MailKind::RegistrationCode { code, expires_in })?
            }
            "login_check_code" => {
                code().map(|(code, expires_in)| MailKind::LoginCheckCode { code, expires_in })?
            }
            "password_reset_code" => {
                code().map(|(code, expires_in)| MailKind::PasswordResetCode { code, expires_in })?
            }
            "account_exists" => MailKind::AccountExists,
            "password_reset_no_account" => MailKind::PasswordResetNoAccount,
            "code_sign_in_locked" => MailKind::CodeSignInLocked,
            "change_password_code" | "change_email_code" | "delete_account_code" => {
                let action = match self.kind.as_str() {
                    "change_password_code" => AccountAction::ChangePassword,
                    "change_email_code" => AccountAction::ChangeEmail,
                    _ => AccountAction::DeleteAccount,
                };
                code().map(|(code, expires_in)| MailKind::AccountActionCode { action, code, expires_in })?
            }
            "new_email_code" => {
                code().map(|(code, expires_in)| MailKind::NewEmailCode { code, expires_in })?
            }
            "new_email_taken" => MailKind::NewEmailTaken,
            "email_changed" => MailKind::EmailChanged {
                new_email_masked: self.detail.clone().ok_or_else(|| malformed("missing detail"))?,
                undo_link: SecretLink::new(self.link.clone().ok_or_else(|| malformed("missing link"))?),
            },
            "password_changed" => MailKind::PasswordChanged,
            "account_deleted" => MailKind::AccountDeleted,
            "new_sign_in" => MailKind::NewSignIn {
                device: self.detail.clone().ok_or_else(|| malformed("missing detail"))?,
            },
            other => return Err(SealError::Malformed(format!("unknown kind {other:?}"))),
        };
        let locale =
            self.locale.as_deref().map(Locale::parse).transpose().map_err(|_| malformed("locale"))?;
        Ok(MailMessage { to, kind, locale })
    }
}

impl fmt::Debug for MailSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MailSealer(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> MailMessage {
        MailMessage {
            to: EmailAddress::parse("ann@example.com").unwrap(),
            kind: MailKind::SignInCode {
                code: OtpCode::parse("042917", 6).unwrap(),
                expires_in: Duration::from_secs(600),
            },
            locale: None,
        }
    }

    #[test]
    fn every_kind_round_trips() {
        let sealer = MailSealer::new(&KeyedHasher::random());
        let code = || OtpCode::parse("000123", 6).unwrap();
        let ttl = Duration::from_secs(300);
        let kinds = [
            MailKind::SignInCode { code: code(), expires_in: ttl },
            MailKind::RegistrationCode { code: code(), expires_in: ttl },
            MailKind::LoginCheckCode { code: code(), expires_in: ttl },
            MailKind::PasswordResetCode { code: code(), expires_in: ttl },
            MailKind::AccountExists,
            MailKind::PasswordResetNoAccount,
            MailKind::CodeSignInLocked,
            MailKind::AccountActionCode {
                action: AccountAction::DeleteAccount,
                code: code(),
                expires_in: ttl,
            },
            MailKind::NewEmailCode { code: code(), expires_in: ttl },
            MailKind::NewEmailTaken,
            MailKind::EmailChanged {
                new_email_masked: "b***@n***.org".to_owned(),
                undo_link: SecretLink::new("https://auth.example/#undo-email=abc".to_owned()),
            },
            MailKind::PasswordChanged,
            MailKind::AccountDeleted,
            MailKind::NewSignIn { device: "Firefox, from 203.0.113.0/24".to_owned() },
        ];
        for kind in kinds {
            let mail = MailMessage::new(EmailAddress::parse("bo@example.org").unwrap(), kind)
                .in_locale(Some(Locale::parse("fr-CA").unwrap()));
            let id = OutboxId::generate();
            assert_eq!(sealer.open(id, &sealer.seal(id, &mail).unwrap()).unwrap(), mail);
        }
    }

    #[test]
    fn the_sealed_form_hides_the_code_and_the_address() {
        let sealer = MailSealer::new(&KeyedHasher::random());
        let sealed = sealer.seal(OutboxId::generate(), &message()).unwrap();
        assert!(!sealed.contains("042917"));
        assert!(!sealed.contains("ann@"));
        assert!(sealed.starts_with("v4.local."));
    }

    #[test]
    fn another_key_another_entry_or_an_altered_payload_is_refused() {
        let sealer = MailSealer::new(&KeyedHasher::random());
        let id = OutboxId::generate();
        let sealed = sealer.seal(id, &message()).unwrap();
        let stranger = MailSealer::new(&KeyedHasher::random());
        assert!(matches!(stranger.open(id, &sealed), Err(SealError::Unauthentic)));
        assert!(matches!(sealer.open(OutboxId::generate(), &sealed), Err(SealError::Unauthentic)));
        let mut altered = sealed.into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(matches!(sealer.open(id, &altered), Err(SealError::Unauthentic)));
    }

    #[test]
    fn the_key_depends_on_the_server_secret_only() {
        let hasher = KeyedHasher::new(&[9; 32]).unwrap();
        let id = OutboxId::generate();
        let sealed = MailSealer::new(&hasher).seal(id, &message()).unwrap();
        assert_eq!(
            MailSealer::new(&KeyedHasher::new(&[9; 32]).unwrap()).open(id, &sealed).unwrap(),
            message()
        );
    }
}
