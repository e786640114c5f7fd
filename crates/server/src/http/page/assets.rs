//! The web page's files (`crates/server/web/`), embedded in the binary at compile time.
//!
//! `index.html` names its script and style sheet with placeholders; they are replaced by
//! names that carry a digest of the file's content (`/assets/app.1a2b3c4d5e6f.js`), so
//! the assets can be cached for a year and a new build is never mixed with an old one.
//! The page itself is revalidated on every load (`no-cache` with an `ETag`).

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One embedded file, under its content-addressed name.
#[derive(Debug)]
pub struct Asset {
    /// The name it is served under, after `/assets/`.
    pub name: String,
    /// Its media type.
    pub content_type: &'static str,
    /// Its content.
    pub body: &'static [u8],
    /// A strong entity tag (quoted digest).
    pub etag: String,
}

/// Where `index.html` takes the configured code length (`OTP_LENGTH`).
const CODE_LENGTH_PLACEHOLDER: &str = "{{code_length}}";

/// The page and its assets.
#[derive(Debug)]
pub struct WebPage {
    /// `index.html` with the asset names filled in; the code length is filled in by
    /// [`WebPage::html`].
    html: String,
    /// A digest of `html`, the stem of the page's entity tags.
    html_digest: String,
    /// The script, style sheet and icon.
    pub assets: Vec<Asset>,
}

/// The source files: placeholder in `index.html`, file stem, extension, media type, content.
const SOURCES: [(&str, &str, &str, &str, &[u8]); 3] = [
    ("{{app.js}}", "app", "js", "text/javascript; charset=utf-8", include_bytes!("../../../web/app.js")),
    ("{{app.css}}", "app", "css", "text/css; charset=utf-8", include_bytes!("../../../web/app.css")),
    ("{{icon.svg}}", "icon", "svg", "image/svg+xml", include_bytes!("../../../web/icon.svg")),
];

const INDEX_HTML: &str = include_str!("../../../web/index.html");

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl WebPage {
    fn build() -> Self {
        let mut html = INDEX_HTML.to_owned();
        let assets = SOURCES
            .iter()
            .map(|(placeholder, stem, extension, content_type, body)| {
                let hash = digest(body);
                let name = format!("{stem}.{}.{extension}", &hash[..12]);
                html = html.replace(placeholder, &format!("/assets/{name}"));
                Asset { name, content_type, body, etag: format!("\"{hash}\"") }
            })
            .collect();
        let html_digest = digest(html.as_bytes());
        Self { html, html_digest, assets }
    }

    /// The page for codes of `code_length` digits, and its entity tag.
    pub fn html(&self, code_length: usize) -> (String, String) {
        let html = self.html.replace(CODE_LENGTH_PLACEHOLDER, &code_length.to_string());
        (html, format!("\"{}-{code_length}\"", self.html_digest))
    }

    /// The asset served under `name`, if any.
    pub fn asset(&self, name: &str) -> Option<&Asset> {
        self.assets.iter().find(|asset| asset.name == name)
    }
}

/// The page, built once per process.
pub static PAGE: LazyLock<WebPage> = LazyLock::new(WebPage::build);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_replaced_by_a_served_asset() {
        let (html, etag) = PAGE.html(8);
        assert!(!html.contains("{{"), "a placeholder is left in index.html");
        assert!(html.contains(r#"data-code-length="8""#));
        assert_ne!(etag, PAGE.html(6).1, "pages for other code lengths have other tags");
        for asset in &PAGE.assets {
            assert!(html.contains(&format!("/assets/{}", asset.name)), "{} is not linked", asset.name);
            assert!(PAGE.asset(&asset.name).is_some());
        }
        assert!(PAGE.asset("app.js").is_none(), "assets are served only under their hashed names");
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        // The Content-Security-Policy allows scripts and styles only from files.
        let html = PAGE.html(6).0.to_lowercase();
        assert!(!html.contains("<style"));
        assert!(!html.contains(" style="));
        let handler = html.match_indices(" on").find(|(at, _)| {
            let rest = &html[at + 3..];
            let name_end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
            name_end > 0 && rest[name_end..].starts_with('=')
        });
        assert!(
            handler.is_none(),
            "inline event handler near {:?}",
            handler.map(|(at, _)| &html[at..at + 20])
        );
        for script in html.split("<script").skip(1) {
            let tag_end = script.find('>').unwrap();
            assert!(script[..tag_end].contains("src="), "inline script: <script{}", &script[..tag_end]);
            assert!(script[tag_end + 1..].trim_start().starts_with("</script>"));
        }
    }
}
