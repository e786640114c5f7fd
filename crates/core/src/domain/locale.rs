//! A language tag: which language a person reads their mail and the page in.

use std::fmt;

/// The longest tag accepted (RFC 5646 allows more, but nothing we translate needs it).
pub const MAX_LOCALE_CHARS: usize = 35;

/// A BCP 47 language tag such as `de` or `fr-CA`, validated and normalised (language
/// subtag in lower case, a two-letter region in upper case). It says what a person asked
/// for; whether a translation exists is the renderer's business (it falls back to
/// English, never to a blank).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(String);

/// Why a text is not a language tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a language tag (like \"en\" or \"fr-CA\")")]
pub struct InvalidLocale;

impl Locale {
    /// Parses `text` (`_` is accepted for `-`, as in `de_DE`).
    ///
    /// # Errors
    /// [`InvalidLocale`] when the text is not a language tag: a 2–3 letter language,
    /// then subtags of 1–8 letters or digits, at most [`MAX_LOCALE_CHARS`] in all.
    pub fn parse(text: &str) -> Result<Self, InvalidLocale> {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_LOCALE_CHARS {
            return Err(InvalidLocale);
        }
        let mut parts = text.split(['-', '_']);
        let language = parts.next().unwrap_or_default();
        if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(InvalidLocale);
        }
        let mut normalised = language.to_ascii_lowercase();
        for part in parts {
            if part.is_empty() || part.len() > 8 || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(InvalidLocale);
            }
            normalised.push('-');
            if part.len() == 2 && part.chars().all(|c| c.is_ascii_alphabetic()) {
                normalised.push_str(&part.to_ascii_uppercase());
            } else {
                normalised.push_str(&part.to_ascii_lowercase());
            }
        }
        Ok(Self(normalised))
    }

    /// The tag (`fr-CA`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language alone (`fr` for `fr-CA`).
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// The languages of an `Accept-Language` header value, most preferred first
    /// (by `q`, then by order); `*`, `q=0` and malformed entries are skipped.
    pub fn from_accept_language(header: &str) -> Vec<Self> {
        let mut ranked: Vec<(u16, usize, Self)> = header
            .split(',')
            .take(32)
            .enumerate()
            .filter_map(|(index, entry)| {
                let mut pieces = entry.split(';');
                let tag = Self::parse(pieces.next()?).ok()?;
                let quality = pieces
                    .filter_map(|piece| piece.trim().strip_prefix("q="))
                    .next()
                    .map_or(Some(1000), |q| {
                        q.trim().parse::<f32>().ok().map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                    })?;
                (quality > 0).then_some((quality, index, tag))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.into_iter().map(|(_, _, tag)| tag).collect()
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_nonsense_refused() {
        assert_eq!(Locale::parse("DE").unwrap().as_str(), "de");
        assert_eq!(Locale::parse("fr_ca").unwrap().as_str(), "fr-CA");
        assert_eq!(Locale::parse("zh-Hant-TW").unwrap().as_str(), "zh-hant-TW");
        assert_eq!(Locale::parse("fr-CA").unwrap().language(), "fr");
        for bad in ["", "e", "english", "de-", "de--AT", "<b>", "de AT", &"a".repeat(40)] {
            assert!(Locale::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accept_language_is_ranked_by_quality_then_order() {
        let ranked = Locale::from_accept_language("fr;q=0.5, de-AT, en;q=0.8, *;q=0.1, es;q=0, x");
        let tags: Vec<_> = ranked.iter().map(Locale::as_str).collect();
        assert_eq!(tags, ["de-AT", "en", "fr"]);
        assert!(Locale::from_accept_language("").is_empty());
        assert!(Locale::from_accept_language("de;q=abc").is_empty());
    }
}
