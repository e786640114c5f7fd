//! The HTTP client every provider call goes through: no redirects, bounded time, and
//! bounded response bodies.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};
use otp_core::ports::OAuthError;
use reqwest::redirect::Policy;
use serde::de::DeserializeOwned;

use crate::error::OAuthSetupError;

/// Largest response body read from a provider (token, JWKS and API answers are a few
/// kilobytes).
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Time limits of provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Longest wait to open a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Longest time for a whole request, body included (default 10 s).
    pub request_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(5), request_timeout: Duration::from_secs(10) }
    }
}

/// Why a provider call failed before its answer could be judged.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request could not be built.
    #[error("building the request: {0}")]
    Request(String),
    /// Connecting, sending or receiving failed or timed out.
    #[error("calling the provider: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was larger than [`MAX_RESPONSE_BYTES`].
    #[error("the provider's answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// A reqwest client that follows no redirects (a token or API call is never
/// redirected, and a redirect could carry credentials elsewhere), gives up after the
/// configured time, and reads at most [`MAX_RESPONSE_BYTES`] of any answer.
#[derive(Debug, Clone)]
pub(crate) struct ProviderHttp {
    client: reqwest::Client,
}

impl ProviderHttp {
    pub(crate) fn new(limits: HttpLimits) -> Result<Self, OAuthSetupError> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.request_timeout)
            .user_agent(concat!("otp-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(OAuthSetupError::HttpClient)?;
        Ok(Self { client })
    }

    /// A request builder on this client.
    pub(crate) fn get(&self, url: oauth2::url::Url) -> reqwest::RequestBuilder {
        self.client.get(url)
    }

    /// Sends `request` and reads the answer, refusing bodies over the limit.
    pub(crate) async fn send(&self, request: reqwest::Request) -> Result<HttpResponse, HttpError> {
        let mut response = self.client.execute(request).await?;
        if response.content_length().is_some_and(|length| length > MAX_RESPONSE_BYTES as u64) {
            return Err(HttpError::TooLarge(MAX_RESPONSE_BYTES));
        }
        let mut builder = oauth2::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError::TooLarge(MAX_RESPONSE_BYTES));
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|error| HttpError::Request(error.to_string()))
    }
}

/// Parses a provider's JSON answer. A failure says where the answer stopped making
/// sense but never quotes it: the parser's own message may hold addresses or keys.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, OAuthError> {
    serde_json::from_slice(body).map_err(|error| {
        OAuthError::unavailable(format!(
            "{what} could not be read ({:?} error at line {}, column {})",
            error.classify(),
            error.line(),
            error.column()
        ))
    })
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request =
                reqwest::Request::try_from(request).map_err(|error| HttpError::Request(error.to_string()))?;
            self.send(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_answers_are_located_but_never_quoted() {
        let error = parse_json::<Vec<u64>>(br#"["ann@example.com"]"#, "the answer").unwrap_err();
        let text = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        assert!(text.contains("line 1, column"), "{text}");
        assert!(!text.contains("ann@example.com"), "{text}");
    }
}
