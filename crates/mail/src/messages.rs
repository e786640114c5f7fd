//! Message files: `key = text` lines per language, with English under every other
//! language key by key, so a missing or blank translation shows English, never a blank.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use crate::error::MailError;
use crate::sources::Source;

/// The language every other one falls back to.
pub(crate) const FALLBACK: &str = "en";

/// One message, with where it was written (for error messages).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) text: String,
    pub(crate) origin: String,
    pub(crate) line: usize,
    /// Its name as a compiled template (`key@language`): unique across the catalog, and
    /// with no `.html` ending, so the message is not escaped before a template uses it.
    pub(crate) template: String,
}

/// Every language's messages.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    languages: BTreeMap<String, BTreeMap<String, Entry>>,
    /// Each language's messages as shown: for every key along its chain, the first
    /// non-blank text. Worked out once after parsing, not at every render.
    shown: BTreeMap<String, BTreeMap<String, Entry>>,
}

impl Catalog {
    /// Parses `files` in order; a later file's key replaces an earlier one's.
    pub(crate) fn parse(files: &[Source]) -> Result<Self, MailError> {
        let mut catalog = Self::default();
        for file in files {
            let language = otp_core::domain::Locale::parse(&file.name).map_err(|_| MailError::Template {
                file: file.origin.clone(),
                line: None,
                detail: format!(
                    "{:?} is not a language tag (name message files like de.txt or pt-BR.txt)",
                    file.name
                ),
            })?;
            let entries = catalog.languages.entry(language.as_str().to_owned()).or_default();
            for (index, raw) in file.text.lines().enumerate() {
                let line = raw.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let invalid = |detail: &str| MailError::Template {
                    file: file.origin.clone(),
                    line: Some(index + 1),
                    detail: detail.to_owned(),
                };
                let (key, text) = line.split_once('=').ok_or_else(|| invalid("expected `key = text`"))?;
                let key = key.trim();
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                    return Err(invalid("a key is letters, digits, `_` and `.`"));
                }
                let entry = Entry {
                    text: text.trim().to_owned(),
                    origin: file.origin.clone(),
                    line: index + 1,
                    template: format!("{key}@{}", language.as_str()),
                };
                entries.insert(key.to_owned(), entry);
            }
        }
        catalog.shown = catalog
            .languages
            .keys()
            .map(|language| (language.clone(), catalog.along_chain(language)))
            .collect();
        Ok(catalog)
    }

    /// Every message of every language (a replaced one only once).
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.languages.values().flat_map(BTreeMap::values)
    }

    /// The languages that have a message file.
    pub(crate) fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.keys().map(String::as_str)
    }

    /// The language of the catalog that serves `tag`: the tag itself, else its language
    /// (`de` for `de-AT`), else `None`.
    pub(crate) fn serving(&self, tag: &str) -> Option<&str> {
        [tag, base_of(tag)]
            .into_iter()
            .find_map(|candidate| self.languages.get_key_value(candidate))
            .map(|(key, _)| key.as_str())
    }

    /// Where to look for `language`'s messages, in order: it, its base language,
    /// English.
    fn chain<'a>(&'a self, language: &'a str) -> Vec<&'a BTreeMap<String, Entry>> {
        let mut names = vec![language, base_of(language), FALLBACK];
        names.dedup();
        names.into_iter().filter_map(|name| self.languages.get(name)).collect()
    }

    /// Every key `language` shows, with the first non-blank text along its chain.
    fn along_chain(&self, language: &str) -> BTreeMap<String, Entry> {
        let chain = self.chain(language);
        let keys: BTreeSet<&String> = chain.iter().flat_map(|entries| entries.keys()).collect();
        keys.into_iter()
            .filter_map(|key| {
                let entry =
                    chain.iter().filter_map(|entries| entries.get(key)).find(|entry| !entry.text.is_empty());
                entry.map(|entry| (key.clone(), entry.clone()))
            })
            .collect()
    }

    /// The messages `language` shows: its own, else its base language's, else
    /// English's, each already filled in along the chain.
    fn shown(&self, language: &str) -> Option<&BTreeMap<String, Entry>> {
        [language, base_of(language), FALLBACK].into_iter().find_map(|name| self.shown.get(name))
    }

    /// The messages `language` shows that `selection` picks, by the name the
    /// templates use.
    pub(crate) fn select<'a>(
        &'a self,
        language: &str,
        selection: Selection<'_>,
    ) -> Vec<(&'a str, &'a Entry)> {
        let Some(shown) = self.shown(language) else { return Vec::new() };
        match selection {
            Selection::Shared => shown
                .iter()
                .filter(|(key, _)| !key.contains('.'))
                .map(|(key, entry)| (key.as_str(), entry))
                .collect(),
            Selection::Under(prefix) => shown
                .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                .map_while(|(key, entry)| key.strip_prefix(prefix).map(|name| (name, entry)))
                .collect(),
            Selection::One(key) => {
                shown.get_key_value(key).map(|(_, entry)| ("", entry)).into_iter().collect()
            }
        }
    }
}

/// Which messages [`Catalog::select`] picks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Selection<'a> {
    /// Those whose key has no dot, by their key.
    Shared,
    /// Those whose key starts with the prefix (which ends with a dot), by the rest of
    /// their key.
    Under(&'a str),
    /// The one with this key, by the empty name.
    One(&'a str),
}

/// The language of a tag (`de` for `de-AT`).
fn base_of(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, text: &str) -> Source {
        Source { name: name.to_owned(), origin: format!("test {name}"), text: text.to_owned() }
    }

    #[test]
    fn missing_and_blank_translations_fall_back_to_english() {
        let catalog =
            Catalog::parse(&[source("en", "a = A\nb = B\nc = C"), source("de", "# comment\na = Ä\nb =\n")])
                .unwrap();
        let texts: Vec<_> = catalog
            .select("de-AT", Selection::Shared)
            .into_iter()
            .map(|(key, entry)| (key, entry.text.as_str()))
            .collect();
        assert_eq!(texts, [("a", "Ä"), ("b", "B"), ("c", "C")]);
        assert_eq!(catalog.serving("de-AT"), Some("de"));
        assert_eq!(catalog.serving("it"), None);
    }

    #[test]
    fn a_selection_picks_shared_prefixed_or_single_messages() {
        let catalog = Catalog::parse(&[
            source("en", "a = A\nkind.subject = S\nkind.body = B\nkindly.x = X\nother.subject = O"),
            source("fr", "kind.subject = Sujet"),
        ])
        .unwrap();
        let texts = |language, selection| -> Vec<(String, String)> {
            catalog
                .select(language, selection)
                .into_iter()
                .map(|(name, entry)| (name.to_owned(), entry.text.clone()))
                .collect()
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter().map(|(name, text)| ((*name).to_owned(), (*text).to_owned())).collect()
        };
        assert_eq!(texts("fr", Selection::Shared), pairs(&[("a", "A")]));
        assert_eq!(texts("fr", Selection::Under("kind.")), pairs(&[("body", "B"), ("subject", "Sujet")]));
        assert_eq!(texts("fr-CA", Selection::One("other.subject")), pairs(&[("", "O")]));
        assert_eq!(texts("it", Selection::One("kind.subject")), pairs(&[("", "S")]), "English for the rest");
        assert!(texts("en", Selection::One("missing")).is_empty());
    }

    #[test]
    fn a_line_without_a_key_is_refused_with_its_file_and_line() {
        let error = Catalog::parse(&[source("en", "a = A\n\nno equals sign")]).unwrap_err().to_string();
        assert_eq!(error, "mail template test en line 3: expected `key = text`");
        assert!(Catalog::parse(&[source("english", "a = A")]).is_err());
    }
}
