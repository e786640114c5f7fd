//! The HTTP client both the key fetch and the liveness check use: no redirects, a
//! timeout, HTTPS unless the host is this machine, and bounded answers.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

use crate::error::{ConfigError, FetchError};

/// Parses an `http(s)` URL, refusing plain `http` to anything but a loopback address
/// unless `allow_plain_http`.
pub(crate) fn parse_url(name: &'static str, text: &str, allow_plain_http: bool) -> Result<Url, ConfigError> {
    let invalid = || ConfigError::InvalidUrl { name, url: text.to_owned() };
    let url = Url::parse(text.trim()).map_err(|_| invalid())?;
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_plain_http || is_loopback(&url) => Ok(url),
        "http" => Err(ConfigError::PlainHttp { name, url: text.to_owned() }),
        _ => Err(invalid()),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A client that follows no redirect and gives up after `timeout`.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("otp-verify/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| ConfigError::HttpClient(error.into()))
}

/// The error for a request that did not complete.
pub(crate) fn transport(url: &Url, error: reqwest::Error) -> FetchError {
    FetchError::Transport { url: url.to_string(), source: error.without_url().into() }
}

/// Reads a 200 answer's body, refusing other statuses and bodies over `limit` bytes.
pub(crate) async fn read_body(
    url: &Url,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, FetchError> {
    if response.status() != reqwest::StatusCode::OK {
        return Err(FetchError::Status { url: url.to_string(), status: response.status().as_u16() });
    }
    let too_large = || FetchError::TooLarge { url: url.to_string(), limit };
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| transport(url, error))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_plain_http_only_to_this_machine() {
        assert!(parse_url("keys URL", "https://auth.example.com/auth/keys", false).is_ok());
        for local in ["http://127.0.0.1:8080/auth/keys", "http://localhost/auth/keys", "http://[::1]:1/x"] {
            assert!(parse_url("keys URL", local, false).is_ok(), "{local}");
        }
        let error = parse_url("keys URL", "http://auth.example.com/auth/keys", false).unwrap_err();
        assert!(matches!(error, ConfigError::PlainHttp { .. }), "{error}");
        assert!(parse_url("keys URL", "http://auth.internal/auth/keys", true).is_ok());
    }

    #[test]
    fn what_is_not_an_http_url_is_refused() {
        for text in ["", "auth.example.com/keys", "ftp://example.com/keys", "https://user:pw@example.com/"] {
            assert!(
                matches!(parse_url("keys URL", text, true), Err(ConfigError::InvalidUrl { .. })),
                "{text}"
            );
        }
    }
}
