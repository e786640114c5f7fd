//! Issuing and checking one-time codes through the code store.

use super::AuthService;
use crate::domain::{EmailAddress, MailKind, MailMessage, OtpCode};
use crate::error::AuthError;
use crate::ports::{CodeKey, CodePurpose, IssueOutcome, NewCode, VerifyOutcome};

impl AuthService {
    fn code_key(&self, purpose: CodePurpose, email: &EmailAddress) -> CodeKey {
        CodeKey { purpose, subject: self.hasher.email_digest(email) }
    }

    /// Generates and stores a new code for `email`, replacing any earlier one.
    ///
    /// # Errors
    /// [`AuthError::OtpCooldown`] when a code was issued too recently.
    pub(super) async fn issue_code(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
    ) -> Result<OtpCode, AuthError> {
        let now = self.now();
        let code = OtpCode::generate(self.policy.code_length);
        let new = NewCode {
            hash: self.hasher.code_hash(purpose, email, &code),
            expires_at: now + self.policy.code_ttl,
            max_attempts: self.policy.max_code_attempts,
            cooldown: self.policy.resend_cooldown,
        };
        match self.ports.codes.issue(&self.code_key(purpose, email), &new, now).await? {
            IssueOutcome::Issued => {
                metrics::counter!("otp_codes_issued_total", "purpose" => purpose.as_str()).increment(1);
                Ok(code)
            }
            IssueOutcome::CoolingDown { retry_after } => Err(AuthError::OtpCooldown { retry_after }),
        }
    }

    /// Checks a presented code, consuming it on success.
    pub(super) async fn check_code(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        code: &OtpCode,
    ) -> Result<(), AuthError> {
        let candidate = self.hasher.code_hash(purpose, email, code);
        let outcome = self.ports.codes.verify(&self.code_key(purpose, email), &candidate, self.now()).await?;
        let label = match outcome {
            VerifyOutcome::Accepted => "accepted",
            VerifyOutcome::Rejected { .. } => "rejected",
            VerifyOutcome::NotFound => "not_found",
            VerifyOutcome::Expired => "expired",
            VerifyOutcome::AttemptsExceeded => "locked_out",
        };
        metrics::counter!("otp_code_checks_total", "purpose" => purpose.as_str(), "outcome" => label)
            .increment(1);
        match outcome {
            VerifyOutcome::Accepted => Ok(()),
            VerifyOutcome::Rejected { attempts_remaining } => {
                Err(AuthError::OtpInvalid { attempts_remaining: Some(attempts_remaining) })
            }
            VerifyOutcome::NotFound => Err(AuthError::OtpInvalid { attempts_remaining: None }),
            VerifyOutcome::Expired => Err(AuthError::OtpExpired),
            VerifyOutcome::AttemptsExceeded => Err(AuthError::OtpAttemptsExceeded),
        }
    }

    /// A code message of `kind` with the policy's lifetime.
    pub(super) fn code_mail(
        &self,
        email: &EmailAddress,
        code: OtpCode,
        kind: fn(OtpCode, std::time::Duration) -> MailKind,
    ) -> MailMessage {
        MailMessage { to: email.clone(), kind: kind(code, self.policy.code_ttl) }
    }

    pub(super) async fn deliver(&self, message: MailMessage) -> Result<(), AuthError> {
        self.ports.mailer.send(&message).await?;
        tracing::info!(kind = message.kind.label(), "mail accepted for delivery");
        Ok(())
    }
}

pub(super) fn sign_in(code: OtpCode, expires_in: std::time::Duration) -> MailKind {
    MailKind::SignInCode { code, expires_in }
}

pub(super) fn registration(code: OtpCode, expires_in: std::time::Duration) -> MailKind {
    MailKind::RegistrationCode { code, expires_in }
}

pub(super) fn login_check(code: OtpCode, expires_in: std::time::Duration) -> MailKind {
    MailKind::LoginCheckCode { code, expires_in }
}

pub(super) fn password_reset(code: OtpCode, expires_in: std::time::Duration) -> MailKind {
    MailKind::PasswordResetCode { code, expires_in }
}
