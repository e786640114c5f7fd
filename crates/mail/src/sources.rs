//! Where templates and message files come from: built into the binary, and replaced
//! file by file from the operator's folder (`MAIL_TEMPLATE_DIR`).

use std::path::Path;

use crate::error::MailError;

/// One template or message file, with where it came from (for error messages).
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The template name (`sign_in_code.html`) or the language (`de`).
    pub(crate) name: String,
    /// `built-in sign_in_code.html`, or the path of the operator's file.
    pub(crate) origin: String,
    /// The file's text.
    pub(crate) text: String,
}

macro_rules! built_in {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

/// The built-in templates: one `.html` and one `.txt` per mail kind, plus the pieces
/// they share.
const TEMPLATES: &[(&str, &str)] = built_in![
    "layout.html",
    "code_box.html",
    "code_box.txt",
    "sign_in_code.html",
    "sign_in_code.txt",
    "registration_code.html",
    "registration_code.txt",
    "login_check_code.html",
    "login_check_code.txt",
    "password_reset_code.html",
    "password_reset_code.txt",
    "account_exists.html",
    "account_exists.txt",
    "password_reset_no_account.html",
    "password_reset_no_account.txt",
    "code_sign_in_locked.html",
    "code_sign_in_locked.txt",
    "change_password_code.html",
    "change_password_code.txt",
    "change_email_code.html",
    "change_email_code.txt",
    "delete_account_code.html",
    "delete_account_code.txt",
    "new_email_code.html",
    "new_email_code.txt",
    "new_email_taken.html",
    "new_email_taken.txt",
    "email_changed.html",
    "email_changed.txt",
    "password_changed.html",
    "password_changed.txt",
    "account_deleted.html",
    "account_deleted.txt",
    "new_sign_in.html",
    "new_sign_in.txt",
];

/// The built-in message files, one per language. English is complete; the others fall
/// back to it key by key.
const MESSAGES: &[(&str, &str)] = &[
    ("en", include_str!("../messages/en.txt")),
    ("de", include_str!("../messages/de.txt")),
    ("fr", include_str!("../messages/fr.txt")),
    ("es", include_str!("../messages/es.txt")),
];

/// Everything the renderer compiles.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    /// Templates: the built-in ones with the folder's replacing them by name (and any
    /// extra pieces the folder's templates include).
    pub(crate) templates: Vec<Source>,
    /// Message files in loading order: built-in first, then the folder's, whose keys
    /// win for their language.
    pub(crate) messages: Vec<Source>,
}

/// The built-in sources, with `dir`'s files over them.
pub(crate) fn load(dir: Option<&Path>) -> Result<Sources, MailError> {
    let mut sources = Sources {
        templates: TEMPLATES.iter().map(|(name, text)| built_in_source(name, text)).collect(),
        messages: MESSAGES.iter().map(|(name, text)| built_in_source(name, text)).collect(),
    };
    let Some(dir) = dir else { return Ok(sources) };
    for (name, path) in files(dir, &["html", "txt"])? {
        let source = Source { origin: path.display().to_string(), text: read(&path)?, name };
        match sources.templates.iter_mut().find(|known| known.name == source.name) {
            Some(known) => *known = source,
            None => {
                tracing::info!(file = %source.origin, "extra mail template (usable by include or extends)");
                sources.templates.push(source);
            }
        }
    }
    let messages = dir.join("messages");
    if messages.is_dir() {
        for (name, path) in files(&messages, &["txt"])? {
            let language = name.trim_end_matches(".txt").to_owned();
            sources.messages.push(Source {
                origin: path.display().to_string(),
                text: read(&path)?,
                name: language,
            });
        }
    }
    Ok(sources)
}

fn built_in_source(name: &str, text: &str) -> Source {
    Source { name: name.to_owned(), origin: format!("built-in {name}"), text: text.to_owned() }
}

/// The files of `dir` with one of `extensions`, by name, in name order.
fn files(dir: &Path, extensions: &[&str]) -> Result<Vec<(String, std::path::PathBuf)>, MailError> {
    let folder_error = |error: std::io::Error| MailError::Folder {
        path: dir.display().to_string(),
        detail: error.to_string(),
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path();
        let extension = path.extension().and_then(|ext| ext.to_str()).unwrap_or_default();
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
        if path.is_file() && extensions.contains(&extension) && !name.starts_with('.') {
            found.push((name, path));
        }
    }
    found.sort();
    Ok(found)
}

fn read(path: &Path) -> Result<String, MailError> {
    std::fs::read_to_string(path)
        .map_err(|error| MailError::Folder { path: path.display().to_string(), detail: error.to_string() })
}
