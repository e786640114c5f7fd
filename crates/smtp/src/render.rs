//! The message texts, from the templates in `templates/` (one plain-text and one HTML
//! template per purpose; HTML is escaped by the template engine).

use askama::Template;
use otp_core::OtpCode;
use otp_core::domain::{MailKind, MailMessage};

/// A message's subject and its two bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// What a code template shows.
struct CodeView<'a> {
    product: &'a str,
    code: &'a str,
    lifetime: &'a str,
}

macro_rules! code_templates {
    ($($name:ident => $path:literal),* $(,)?) => {
        $(
            #[derive(Template)]
            #[template(path = $path)]
            struct $name<'a> {
                product: &'a str,
                code: &'a str,
                lifetime: &'a str,
            }

            impl<'a> From<&CodeView<'a>> for $name<'a> {
                fn from(view: &CodeView<'a>) -> Self {
                    Self { product: view.product, code: view.code, lifetime: view.lifetime }
                }
            }
        )*
    };
}

code_templates! {
    SignInText => "sign_in_code.txt",
    SignInHtml => "sign_in_code.html",
    RegistrationText => "registration_code.txt",
    RegistrationHtml => "registration_code.html",
    LoginCheckText => "login_check_code.txt",
    LoginCheckHtml => "login_check_code.html",
    PasswordResetText => "password_reset_code.txt",
    PasswordResetHtml => "password_reset_code.html",
}

#[derive(Template)]
#[template(path = "account_exists.txt")]
struct AccountExistsText<'a> {
    product: &'a str,
}

#[derive(Template)]
#[template(path = "account_exists.html")]
struct AccountExistsHtml<'a> {
    product: &'a str,
}

#[derive(Template)]
#[template(path = "password_reset_no_account.txt")]
struct NoAccountText<'a> {
    product: &'a str,
}

#[derive(Template)]
#[template(path = "password_reset_no_account.html")]
struct NoAccountHtml<'a> {
    product: &'a str,
}

#[derive(Template)]
#[template(path = "code_sign_in_locked.txt")]
struct LockedText<'a> {
    product: &'a str,
}

#[derive(Template)]
#[template(path = "code_sign_in_locked.html")]
struct LockedHtml<'a> {
    product: &'a str,
}

/// The account self-service messages: the plain text is the domain's own
/// [`MailMessage::text_body`]; the HTML shows its paragraphs (and the code, if any, in
/// the code box). Kept minimal until the templates move to run-time rendering.
#[derive(Template)]
#[template(path = "account_notice.html")]
struct AccountNoticeHtml<'a> {
    product: &'a str,
    title: &'a str,
    paragraphs: Vec<&'a str>,
    code: &'a str,
    lifetime: &'a str,
}

fn account_notice(message: &MailMessage, view: &CodeView<'_>) -> Result<(String, String), askama::Error> {
    let text = message.text_body(view.product);
    let title = message.subject(view.product);
    let paragraphs = text.split("\n\n").map(str::trim_end).filter(|part| !part.is_empty()).collect();
    let html = AccountNoticeHtml {
        product: view.product,
        title: &title,
        paragraphs,
        code: view.code,
        lifetime: view.lifetime,
    }
    .render()?;
    Ok((text, html))
}

/// Renders `message` for the product named `product`.
///
/// # Errors
/// [`askama::Error`] when a template fails to render (a bug, not bad input).
pub fn render(message: &MailMessage, product: &str) -> Result<RenderedMail, askama::Error> {
    let lifetime = message.kind.lifetime_phrase().unwrap_or_default();
    let code = message.kind.code().map(OtpCode::expose).unwrap_or_default();
    let view = CodeView { product, code, lifetime: &lifetime };
    let (text, html) = match &message.kind {
        MailKind::SignInCode { .. } => pair::<SignInText, SignInHtml>(&view)?,
        MailKind::RegistrationCode { .. } => pair::<RegistrationText, RegistrationHtml>(&view)?,
        MailKind::LoginCheckCode { .. } => pair::<LoginCheckText, LoginCheckHtml>(&view)?,
        MailKind::PasswordResetCode { .. } => pair::<PasswordResetText, PasswordResetHtml>(&view)?,
        MailKind::AccountExists => {
            (AccountExistsText { product }.render()?, AccountExistsHtml { product }.render()?)
        }
        MailKind::PasswordResetNoAccount => {
            (NoAccountText { product }.render()?, NoAccountHtml { product }.render()?)
        }
        MailKind::CodeSignInLocked => (LockedText { product }.render()?, LockedHtml { product }.render()?),
        MailKind::AccountActionCode { .. }
        | MailKind::NewEmailCode { .. }
        | MailKind::NewEmailTaken
        | MailKind::EmailChanged { .. }
        | MailKind::PasswordChanged
        | MailKind::AccountDeleted
        | MailKind::NewSignIn { .. } => account_notice(message, &view)?,
    };
    Ok(RenderedMail { subject: message.subject(product), text, html })
}

fn pair<'a, T, H>(view: &CodeView<'a>) -> Result<(String, String), askama::Error>
where
    T: Template + for<'v> From<&'v CodeView<'a>>,
    H: Template + for<'v> From<&'v CodeView<'a>>,
{
    Ok((T::from(view).render()?, H::from(view).render()?))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use otp_core::EmailAddress;

    use super::*;

    fn code() -> OtpCode {
        OtpCode::parse("271828", 6).unwrap()
    }

    fn every_kind() -> Vec<MailKind> {
        let ttl = Duration::from_secs(600);
        vec![
            MailKind::SignInCode { code: code(), expires_in: ttl },
            MailKind::RegistrationCode { code: code(), expires_in: ttl },
            MailKind::LoginCheckCode { code: code(), expires_in: ttl },
            MailKind::PasswordResetCode { code: code(), expires_in: ttl },
            MailKind::AccountExists,
            MailKind::PasswordResetNoAccount,
            MailKind::CodeSignInLocked,
            MailKind::AccountActionCode {
                action: otp_core::domain::AccountAction::ChangeEmail,
                code: code(),
                expires_in: ttl,
            },
            MailKind::NewEmailCode { code: code(), expires_in: ttl },
            MailKind::NewEmailTaken,
            MailKind::PasswordChanged,
            MailKind::AccountDeleted,
        ]
    }

    #[test]
    fn code_mails_show_the_code_its_lifetime_and_the_product_in_both_parts() {
        for kind in every_kind() {
            let carries_code = kind.code().is_some();
            let mail = MailMessage { to: EmailAddress::parse("ann@example.com").unwrap(), kind };
            let rendered = render(&mail, "Acme ID").unwrap();
            for body in [&rendered.text, &rendered.html] {
                assert!(body.contains("Acme ID"), "{body}");
                assert_eq!(body.contains("271828"), carries_code, "{body}");
                assert_eq!(body.contains("10 minutes"), carries_code, "{body}");
            }
            assert!(rendered.html.starts_with("<!DOCTYPE html>"));
            assert_eq!(rendered.subject, mail.subject("Acme ID"));
        }
    }

    #[test]
    fn the_product_name_is_escaped_in_html() {
        let mail = MailMessage {
            to: EmailAddress::parse("ann@example.com").unwrap(),
            kind: MailKind::AccountExists,
        };
        let rendered = render(&mail, "<b>Acme</b>").unwrap();
        assert!(!rendered.html.contains("<b>Acme</b>"));
        assert!(rendered.html.contains("&#60;b&#62;Acme") || rendered.html.contains("&lt;b&gt;Acme"));
        assert!(rendered.text.contains("<b>Acme</b>"), "plain text is not escaped");
    }
}
