/// Why the mail set-up (templates, message files, DKIM key) or a message could not be
/// made. Set-up errors stop start-up; their text names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A template or message file is invalid: its syntax, or a variable or message it
    /// uses that does not exist.
    #[error("mail template {file}{}: {detail}", line.map(|line| format!(" line {line}")).unwrap_or_default())]
    Template {
        /// The file (a path under `MAIL_TEMPLATE_DIR`, or `built-in NAME`).
        file: String,
        /// The line in that file, when known.
        line: Option<usize>,
        /// What is wrong.
        detail: String,
    },
    /// A file of the template folder could not be read.
    #[error("MAIL_TEMPLATE_DIR {path}: {detail}")]
    Folder {
        /// The file or folder.
        path: String,
        /// The I/O error.
        detail: String,
    },
    /// The DKIM settings are unusable.
    #[error("DKIM: {0}")]
    Dkim(String),
    /// The message could not be written or signed.
    #[error("composing mail: {0}")]
    Compose(String),
}
