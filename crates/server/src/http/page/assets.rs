//! The web page's files (`crates/server/web/`), embedded in the binary at compile time.
//!
//! `index.html` names its script and style sheet with placeholders; they are replaced by
//! names that carry a digest of the file's content (`/assets/app.1a2b3c4d5e6f.js`), so
//! the assets can be cached for a year and a new build is never mixed with an old one.
//! The page itself is revalidated on every load (`no-cache` with an `ETag`).

use std::collections::BTreeMap;
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

/// What the page says, in one language: `{{t.KEY}}` placeholders of `index.html` take
/// the `page.KEY` messages; `{{product}}` is `APP_NAME`.
#[derive(Debug, Clone, Default)]
pub struct PageTexts {
    /// The language (`<html lang>`).
    pub language: String,
    /// `APP_NAME`.
    pub product: String,
    /// The `page.` messages, by key without the prefix.
    pub texts: BTreeMap<String, String>,
    /// The languages the account view offers.
    pub languages: Vec<String>,
}

impl PageTexts {
    /// What the script reads from the page (`#page-data`): the language, the languages
    /// on offer, and the texts it shows itself. `<` is escaped, so no text can end the
    /// `<script>` element.
    fn data_json(&self) -> String {
        let script_texts: BTreeMap<&str, &str> = ["link_ready"]
            .into_iter()
            .filter_map(|key| self.texts.get(key).map(|text| (key, text.as_str())))
            .collect();
        let data = serde_json::json!({
            "lang": self.language,
            "product": self.product,
            "languages": self.languages,
            "texts": script_texts,
        });
        data.to_string().replace('<', "\\u003c")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
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

    /// The page for codes of `code_length` digits in `texts`' language, and its entity
    /// tag (a digest of the page as sent).
    pub fn html(&self, code_length: usize, texts: &PageTexts) -> (String, String) {
        // The `{{t.KEY}}` placeholders first, so no text can smuggle one in.
        let mut html = String::with_capacity(self.html.len());
        let mut rest = self.html.as_str();
        while let Some(start) = rest.find("{{t.") {
            html.push_str(&rest[..start]);
            let after = &rest[start + 4..];
            let Some(end) = after.find("}}") else {
                html.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let key = &after[..end];
            html.push_str(&escape(texts.texts.get(key).map_or(key, String::as_str)));
            rest = &after[end + 2..];
        }
        html.push_str(rest);
        let html = html
            .replace(CODE_LENGTH_PLACEHOLDER, &code_length.to_string())
            .replace("{{lang}}", &escape(&texts.language))
            .replace("{{product}}", &escape(&texts.product))
            .replace("{{page_data}}", &texts.data_json());
        let etag = format!("\"{}-{}\"", &self.html_digest[..16], &digest(html.as_bytes())[..16]);
        (html, etag)
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

    fn texts() -> PageTexts {
        let renderer = otp_mail::MailRenderer::new(otp_mail::RendererConfig::new("Acme <ID>")).unwrap();
        let (language, texts) = renderer.page_texts(None).unwrap();
        PageTexts { language, product: renderer.product().to_owned(), texts, languages: renderer.languages() }
    }

    #[test]
    fn every_placeholder_is_replaced_by_a_served_asset_or_a_text() {
        let (html, etag) = PAGE.html(8, &texts());
        assert!(!html.contains("{{"), "a placeholder is left in index.html");
        assert!(html.contains(r#"data-code-length="8""#));
        assert_ne!(etag, PAGE.html(6, &texts()).1, "pages for other code lengths have other tags");
        for asset in &PAGE.assets {
            assert!(html.contains(&format!("/assets/{}", asset.name)), "{} is not linked", asset.name);
            assert!(PAGE.asset(&asset.name).is_some());
        }
        assert!(PAGE.asset("app.js").is_none(), "assets are served only under their hashed names");
    }

    #[test]
    fn texts_and_the_product_are_escaped_and_the_data_cannot_end_its_script() {
        let mut texts = texts();
        texts.texts.insert("link_ready".into(), "</script><script>alert(1)</script>".into());
        let (html, _) = PAGE.html(6, &texts);
        assert!(html.contains("<title>Sign in · Acme &lt;ID&gt;</title>"), "{html}");
        assert!(html.contains("<span class=\"brand\">Acme &lt;ID&gt;</span>"));
        assert!(!html.contains("</script><script>alert"), "{html}");
        assert!(html.contains("\\u003c/script>"));
        let french = PageTexts { language: "fr".into(), ..texts };
        assert_ne!(
            PAGE.html(6, &french).1,
            PAGE.html(6, &self::tests::texts()).1,
            "languages have other tags"
        );
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        // The Content-Security-Policy allows scripts and styles only from files; the one
        // inline element is a JSON data block, which is never run.
        let html = PAGE.html(6, &texts()).0.to_lowercase();
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
            if script[..tag_end].contains(r#"type="application/json""#) {
                continue;
            }
            assert!(script[..tag_end].contains("src="), "inline script: <script{}", &script[..tag_end]);
            assert!(script[tag_end + 1..].trim_start().starts_with("</script>"));
        }
    }
}
