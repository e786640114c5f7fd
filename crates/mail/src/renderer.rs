//! One renderer for every transport: the subject and both bodies of a message, in its
//! language, from the templates and message files.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use minijinja::{Environment, UndefinedBehavior, Value};
use otp_core::domain::{AccountAction, Locale, MailKind, MailMessage, SecretLink};
use otp_core::{EmailAddress, OtpCode};

use crate::error::MailError;
use crate::link::sign_in_link;
use crate::messages::{Catalog, Entry, FALLBACK, Selection};
use crate::sources::{self, Source};

/// What the renderer needs to know.
#[derive(Debug, Clone)]
pub struct RendererConfig {
    /// The product name (`APP_NAME`), `{{ product }}` in templates and messages.
    pub product: String,
    /// The page's public address (`PUBLIC_URL`); without it, code mails carry no link.
    pub public_url: Option<String>,
    /// The language of messages whose recipient and request named none (`DEFAULT_LOCALE`).
    pub default_locale: Locale,
    /// The operator's folder (`MAIL_TEMPLATE_DIR`): its templates and
    /// `messages/<language>.txt` files replace the built-in ones.
    pub template_dir: Option<PathBuf>,
}

impl RendererConfig {
    /// The built-in templates in English for `product`, without a link.
    pub fn new(product: impl Into<String>) -> Self {
        Self {
            product: product.into(),
            public_url: None,
            default_locale: Locale::parse(FALLBACK).unwrap_or_else(|_| unreachable!("en is a language tag")),
            template_dir: None,
        }
    }
}

/// A message's subject and its two bodies, and the language they are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The language used (a language of the message files, such as `de`).
    pub language: String,
}

/// Renders every mail kind, in every language that has a message file. Built once at
/// start-up, where every template is compiled and every kind rendered in every language,
/// so a broken template stops start-up instead of a delivery.
#[derive(Debug)]
pub struct MailRenderer {
    env: Environment<'static>,
    catalog: Catalog,
    /// Template name → where it came from.
    origins: HashMap<String, String>,
    config: RendererConfig,
}

/// The kinds with a sign-in link: their code is entered on the page's code step.
fn has_link(kind: &MailKind) -> bool {
    matches!(
        kind,
        MailKind::SignInCode { .. } | MailKind::RegistrationCode { .. } | MailKind::LoginCheckCode { .. }
    )
}

impl MailRenderer {
    /// Loads and checks the templates and message files.
    ///
    /// # Errors
    /// [`MailError::Template`] naming the file and line of a template or message that
    /// does not compile or render; [`MailError::Folder`] when the folder cannot be read.
    pub fn new(config: RendererConfig) -> Result<Self, MailError> {
        let sources = sources::load(config.template_dir.as_deref())?;
        let catalog = Catalog::parse(&sources.messages)?;
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|error| template_error("syntax", &error))?;
        env.set_syntax(syntax);
        let mut origins = HashMap::new();
        for Source { name, origin, text } in sources.templates {
            env.add_template_owned(name.clone(), text).map_err(|error| template_error(&origin, &error))?;
            origins.insert(name, origin);
        }
        // Every message compiled once here, not at every render.
        for entry in catalog.entries() {
            env.add_template_owned(entry.template.clone(), entry.text.clone())
                .map_err(|error| message_error(entry, &error))?;
        }
        let renderer = Self { env, catalog, origins, config };
        renderer.check()?;
        Ok(renderer)
    }

    /// Renders every kind in every language once, with sample values.
    fn check(&self) -> Result<(), MailError> {
        let to = EmailAddress::parse("sample@example.com")
            .map_err(|error| MailError::Compose(error.to_string()))?;
        let languages: Vec<String> = self.catalog.languages().map(str::to_owned).collect();
        for kind in samples() {
            for language in &languages {
                let locale = Locale::parse(language).ok();
                self.render(&MailMessage::new(to.clone(), kind.clone()).in_locale(locale))?;
            }
        }
        Ok(())
    }

    /// The product name (`APP_NAME`).
    pub fn product(&self) -> &str {
        &self.config.product
    }

    /// The languages that have a message file (`en`, `de`, ...).
    pub fn languages(&self) -> Vec<String> {
        self.catalog.languages().map(str::to_owned).collect()
    }

    /// The language of the message files that serves `tag` (`de` for `de-AT`), if any.
    pub fn serves(&self, tag: &str) -> Option<&str> {
        self.catalog.serving(tag)
    }

    /// The first of `requested` (most preferred first) that the message files serve, as
    /// the language that serves it (`de` for `de-AT` when only `de` exists).
    pub fn negotiate(&self, requested: &[Locale]) -> Option<Locale> {
        requested
            .iter()
            .find_map(|tag| self.catalog.serving(tag.as_str()).and_then(|found| Locale::parse(found).ok()))
    }

    /// The language a message in `locale` is written in.
    pub fn language_for(&self, locale: Option<&Locale>) -> String {
        locale
            .and_then(|locale| self.catalog.serving(locale.as_str()))
            .or_else(|| self.catalog.serving(self.config.default_locale.as_str()))
            .unwrap_or(FALLBACK)
            .to_owned()
    }

    /// The page's texts in `locale`'s language: every message whose key starts with
    /// `page.` (the prefix removed), rendered with `product`.
    ///
    /// # Errors
    /// [`MailError::Template`] for a message that does not render.
    pub fn page_texts(
        &self,
        locale: Option<&Locale>,
    ) -> Result<(String, BTreeMap<String, String>), MailError> {
        let language = self.language_for(locale);
        let context = BTreeMap::from([("product", Value::from(self.config.product.as_str()))]);
        let texts = self.texts(&language, Selection::Under("page."), &Value::from(context))?;
        Ok((language, texts))
    }

    /// Renders `message`.
    ///
    /// # Errors
    /// [`MailError::Template`] when a template or message fails (checked at start-up
    /// for every kind and language, so only a bug gets here).
    pub fn render(&self, message: &MailMessage) -> Result<RenderedMail, MailError> {
        let language = self.language_for(message.locale.as_ref());
        let label = message.kind.label();
        let code = message.kind.code().map(OtpCode::expose);
        let minutes = message.kind.expires_in().map(minutes);
        let link = match (&self.config.public_url, code) {
            (Some(url), Some(code)) if has_link(&message.kind) => {
                Some(sign_in_link(url, message.to.as_str(), code))
            }
            _ => None,
        };
        let mut context: BTreeMap<&str, Value> = BTreeMap::from([
            ("product", Value::from(self.config.product.as_str())),
            ("lang", Value::from(language.as_str())),
            ("to", Value::from(message.to.as_str())),
            ("public_url", Value::from(self.config.public_url.clone())),
            ("code", Value::from(code)),
            ("minutes", Value::from(minutes)),
            ("link", Value::from(link)),
            ("lifetime", Value::from(())),
        ]);
        context.extend(notice_values(&message.kind));
        if let Some(minutes) = minutes {
            let key = if minutes == 1 { "lifetime_one" } else { "lifetime_other" };
            let lifetime =
                self.texts(&language, Selection::One(key), &Value::from(context.clone()))?.remove("");
            context.insert("lifetime", Value::from(lifetime));
        }
        let values = Value::from(context.clone());
        let shared = self.texts(&language, Selection::Shared, &values)?;
        let prefix = format!("{label}.");
        let own = self.texts(&language, Selection::Under(&prefix), &values)?;
        let subject = own.get("subject").cloned().ok_or_else(|| MailError::Template {
            file: "messages/en.txt".to_owned(),
            line: None,
            detail: format!("no message {label}.subject"),
        })?;
        context.insert("m", Value::from(shared));
        context.insert("k", Value::from(own));
        context.insert("subject", Value::from(subject.as_str()));
        let context = Value::from(context);
        let text = self.template(&format!("{label}.txt"), &context)?;
        let html = self.template(&format!("{label}.html"), &context)?;
        Ok(RenderedMail { subject, text, html, language })
    }

    /// The messages of `language` that `selection` picks, by the name templates use,
    /// rendered with `context`.
    fn texts(
        &self,
        language: &str,
        selection: Selection<'_>,
        context: &Value,
    ) -> Result<BTreeMap<String, String>, MailError> {
        self.catalog
            .select(language, selection)
            .into_iter()
            .map(|(name, entry)| {
                let text = self
                    .env
                    .get_template(&entry.template)
                    .and_then(|template| template.render(context))
                    .map_err(|error| message_error(entry, &error))?;
                Ok((name.to_owned(), text))
            })
            .collect()
    }

    fn template(&self, name: &str, context: &Value) -> Result<String, MailError> {
        let template = self.env.get_template(name).map_err(|error| template_error(name, &error))?;
        template.render(context).map_err(|error| {
            let failing = error.name().unwrap_or(name);
            let origin = self.origins.get(failing).map_or(failing, String::as_str);
            template_error(origin, &error)
        })
    }
}

fn minutes(ttl: Duration) -> u64 {
    ttl.as_secs().div_ceil(60).max(1)
}

fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// A message's failure, at the message's own file and line.
fn message_error(entry: &Entry, error: &minijinja::Error) -> MailError {
    MailError::Template { file: entry.origin.clone(), line: Some(entry.line), detail: describe(error) }
}

fn template_error(origin: &str, error: &minijinja::Error) -> MailError {
    MailError::Template { file: origin.to_owned(), line: error.line(), detail: describe(error) }
}

/// One message of every kind, for the start-up check.
fn samples() -> Vec<MailKind> {
    let code = || OtpCode::parse("123456", 6).unwrap_or_else(|_| unreachable!("six digits"));
    let ttl = Duration::from_secs(600);
    vec![
        MailKind::SignInCode { code: code(), expires_in: ttl },
        MailKind::RegistrationCode { code: code(), expires_in: ttl },
        MailKind::LoginCheckCode { code: code(), expires_in: ttl },
        MailKind::PasswordResetCode { code: code(), expires_in: ttl },
        MailKind::AccountExists,
        MailKind::PasswordResetNoAccount,
        MailKind::CodeSignInLocked,
        MailKind::AccountActionCode { action: AccountAction::ChangePassword, code: code(), expires_in: ttl },
        MailKind::AccountActionCode { action: AccountAction::ChangeEmail, code: code(), expires_in: ttl },
        MailKind::AccountActionCode { action: AccountAction::DeleteAccount, code: code(), expires_in: ttl },
        MailKind::NewEmailCode { code: code(), expires_in: ttl },
        MailKind::NewEmailTaken,
        MailKind::EmailChanged {
            new_email_masked: "s***@e***.com".to_owned(),
            undo_link: SecretLink::new("https://auth.example.com/#undo-email=sample".to_owned()),
        },
        MailKind::PasswordChanged,
        MailKind::AccountDeleted,
        MailKind::NewSignIn { device: "Firefox on Linux, from 203.0.113.0/24".to_owned() },
    ]
}

/// The values only some notices carry: the masked new address and undo link of an
/// address change, the device of a new sign-in (`none` for every other kind).
fn notice_values(kind: &MailKind) -> [(&'static str, Value); 3] {
    let (masked, undo, device) = match kind {
        MailKind::EmailChanged { new_email_masked, undo_link } => {
            (Some(new_email_masked.as_str()), Some(undo_link.expose()), None)
        }
        MailKind::NewSignIn { device } => (None, None, Some(device.as_str())),
        _ => (None, None, None),
    };
    [
        ("new_email_masked", Value::from(masked)),
        ("undo_link", Value::from(undo)),
        ("device", Value::from(device)),
    ]
}

#[cfg(test)]
#[path = "renderer_tests.rs"]
mod tests;
