//! Checks of the URLs a provider is configured with.

use std::net::IpAddr;

use oauth2::url::{Host, Url};

use crate::error::OAuthSetupError;

/// Whether `url` points at this machine (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Parses an absolute `https` URL (plain `http` only to this machine, for tests and
/// local development) without credentials or fragment.
fn parse_web_url(setting: &'static str, text: &str) -> Result<Url, OAuthSetupError> {
    let url =
        Url::parse(text.trim()).map_err(|error| OAuthSetupError::invalid(setting, error.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(OAuthSetupError::invalid(
                setting,
                "must use https (plain http is allowed only to localhost)",
            ));
        }
        other => return Err(OAuthSetupError::invalid(setting, format!("scheme {other} is not http(s)"))),
    }
    if url.host().is_none() {
        return Err(OAuthSetupError::invalid(setting, "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OAuthSetupError::invalid(setting, "must not carry credentials"));
    }
    if url.fragment().is_some() {
        return Err(OAuthSetupError::invalid(setting, "must not have a #fragment"));
    }
    Ok(url)
}

/// A provider endpoint (authorization, token, JWKS, API).
///
/// # Errors
/// [`OAuthSetupError::InvalidSetting`] naming `setting`.
pub(crate) fn endpoint(setting: &'static str, text: &str) -> Result<Url, OAuthSetupError> {
    parse_web_url(setting, text)
}

/// Checks a redirect URI for the allow-list: an absolute `https` URL (or `http` to
/// this machine) without credentials or fragment (RFC 6749, section 3.1.2). The
/// allow-list compares URIs as exact strings, so the text is not normalised: the
/// returned text is `uri` as given, trimmed.
///
/// # Errors
/// [`OAuthSetupError::InvalidSetting`] naming `setting`.
pub fn check_redirect_uri(setting: &'static str, uri: &str) -> Result<String, OAuthSetupError> {
    parse_web_url(setting, uri)?;
    Ok(uri.trim().to_owned())
}

/// A setting that must not be empty.
pub(crate) fn required(setting: &'static str, text: &str) -> Result<String, OAuthSetupError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(OAuthSetupError::invalid(setting, "must not be empty"));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_to_this_machine() {
        for ok in [
            "https://oauth2.googleapis.com/token",
            "https://github.example.com/api/v3",
            "http://127.0.0.1:8080/oauth/callback",
            "http://localhost:3000/cb",
            "http://[::1]:9/x",
        ] {
            assert!(endpoint("token_url", ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("http://example.com/token", "https"),
            ("ftp://example.com/token", "scheme"),
            ("https://user:pw@example.com/token", "credentials"),
            ("https://example.com/cb#frag", "fragment"),
            ("/relative", "relative"),
            ("", "relative"),
        ] {
            let error = endpoint("token_url", bad).unwrap_err().to_string();
            assert!(error.starts_with("token_url: "), "{error}");
            assert!(error.contains(why) || why == "relative", "{bad}: {error}");
        }
    }

    #[test]
    fn redirect_uris_are_kept_as_written() {
        let uri = check_redirect_uri("redirect_uri", " http://127.0.0.1:8080/oauth/callback ").unwrap();
        assert_eq!(uri, "http://127.0.0.1:8080/oauth/callback");
        assert!(check_redirect_uri("redirect_uri", "http://evil.example/cb").is_err());
        assert_eq!(required("client_id", "  ").unwrap_err().setting(), Some("client_id"));
    }
}
