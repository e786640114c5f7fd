//! The liveness check: asks the auth server's introspection endpoint (RFC 7662)
//! whether a token's session is still live, so a logged-out session stops working here
//! within seconds, not at the token's expiry.
//!
//! # The exchange
//!
//! ```text
//! POST {base}/auth/introspect HTTP/1.1
//! Authorization: Bearer <service credential>
//! Content-Type: application/x-www-form-urlencoded
//! Accept: application/json
//!
//! token=v4.public.eyJzdWIi...&token_type_hint=access_token
//! ```
//!
//! answered with `200 OK`, `Content-Type: application/json` and
//! `{"active": true, "sub": "…", "sid": "…", "jti": "…", …}` for a live session, or
//! `{"active": false}` for anything else (expired, logged out, revoked, unknown,
//! malformed). Any other status (401 for a wrong credential, 429, 5xx) or body is "no
//! answer": the check fails closed (the token is refused with 503) unless configured to
//! fail open. When `sub`, `sid` or `jti` are present they must be those of the token.

mod cache;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use self::cache::{Answer, AnswerCache, Liveness};
use crate::claims::Claims;
use crate::error::{ConfigError, FetchError, VerifyError};
use crate::http;

/// The path of the endpoint under the server's base URL.
pub const INTROSPECTION_PATH: &str = "/auth/introspect";

/// How long "no answer" is remembered for a token, so an outage costs one request per
/// token per second, not one per request.
const UNAVAILABLE_TTL: Duration = Duration::from_secs(1);

/// Longest answer body read.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Longest answer reuse accepted.
const MAX_CACHE_TTL: Duration = Duration::from_secs(60);

/// What to do with a token whose liveness cannot be checked (the endpoint is down,
/// slow, or refuses the service credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    /// Refuse the token ([`VerifyError::LivenessUnavailable`], answered 503). The default.
    #[default]
    Closed,
    /// Accept a token that verified offline, and log a warning.
    Open,
}

/// Where and how to check liveness; give it to [`crate::VerifierBuilder::liveness`].
#[derive(Clone)]
pub struct Introspection {
    endpoint: String,
    credential: SecretString,
    cache_ttl: Duration,
    max_cached_tokens: usize,
    failure_mode: FailureMode,
    timeout: Duration,
    allow_plain_http: bool,
}

impl std::fmt::Debug for Introspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspection")
            .field("endpoint", &self.endpoint)
            .field("credential", &"[redacted]")
            .field("cache_ttl", &self.cache_ttl)
            .field("max_cached_tokens", &self.max_cached_tokens)
            .field("failure_mode", &self.failure_mode)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Introspection {
    /// Checks at `{base_url}/auth/introspect` (for example `https://auth.example.com`),
    /// sending `credential` as `Authorization: Bearer …`.
    pub fn new(base_url: &str, credential: impl Into<String>) -> Self {
        let endpoint = format!("{}{INTROSPECTION_PATH}", base_url.trim().trim_end_matches('/'));
        Self::at_endpoint(&endpoint, credential)
    }

    /// Checks at exactly `endpoint_url` (when the routes are mounted elsewhere).
    pub fn at_endpoint(endpoint_url: &str, credential: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint_url.trim().to_owned(),
            credential: SecretString::from(credential.into()),
            cache_ttl: Duration::from_secs(5),
            max_cached_tokens: 10_000,
            failure_mode: FailureMode::Closed,
            timeout: Duration::from_secs(2),
            allow_plain_http: false,
        }
    }

    /// How long a "live" answer is reused for the same token (default 5 s, at most
    /// 60 s): the longest a logged-out session keeps working here. "Ended" answers are
    /// kept until the token expires.
    #[must_use]
    pub fn cache_for(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How many tokens' answers are kept at most (default 10 000).
    #[must_use]
    pub fn max_cached_tokens(mut self, count: usize) -> Self {
        self.max_cached_tokens = count;
        self
    }

    /// What to do when the check cannot be made (default [`FailureMode::Closed`]).
    #[must_use]
    pub fn on_failure(mut self, mode: FailureMode) -> Self {
        self.failure_mode = mode;
        self
    }

    /// How long one check may take, connecting included (default 2 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Allows a plain `http` endpoint on another host than this machine. The credential
    /// and every token then cross the network readable: only on a private network.
    #[must_use]
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    pub(crate) fn build(self) -> Result<LivenessCheck, ConfigError> {
        let endpoint = http::parse_url("introspection URL", &self.endpoint, self.allow_plain_http)?;
        let credential = self.credential.expose_secret();
        if credential.is_empty() || !credential.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(ConfigError::OutOfRange(
                "the introspection credential must be non-empty printable ASCII without spaces",
            ));
        }
        if self.cache_ttl > MAX_CACHE_TTL {
            return Err(ConfigError::OutOfRange("the introspection cache time must be at most 60 s"));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::OutOfRange("the introspection timeout must be positive"));
        }
        Ok(LivenessCheck {
            client: http::client(self.timeout)?,
            endpoint,
            credential: self.credential,
            cache_ttl: self.cache_ttl,
            failure_mode: self.failure_mode,
            answers: Mutex::new(AnswerCache::new(self.max_cached_tokens)),
        })
    }
}

/// A configured liveness check with its answer cache.
pub(crate) struct LivenessCheck {
    client: reqwest::Client,
    endpoint: Url,
    credential: SecretString,
    cache_ttl: Duration,
    failure_mode: FailureMode,
    answers: Mutex<AnswerCache>,
}

impl std::fmt::Debug for LivenessCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivenessCheck")
            .field("endpoint", &self.endpoint.as_str())
            .field("failure_mode", &self.failure_mode)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct IntrospectionAnswer {
    active: bool,
    sub: Option<Uuid>,
    sid: Option<Uuid>,
    jti: Option<Uuid>,
}

impl LivenessCheck {
    /// Whether the session of `token` (whose `claims` verified offline) is still live.
    pub(crate) async fn check(&self, token: &str, claims: &Claims) -> Result<(), VerifyError> {
        let slot =
            self.answers.lock().unwrap_or_else(PoisonError::into_inner).slot(claims.token_id, Instant::now());
        let answer = slot.get_or_init(|| self.ask(token, claims)).await;
        match &answer.liveness {
            Liveness::Active => Ok(()),
            Liveness::Inactive => Err(VerifyError::Inactive),
            Liveness::Unavailable(error) => match self.failure_mode {
                FailureMode::Closed => Err(VerifyError::LivenessUnavailable(error.clone())),
                FailureMode::Open => {
                    tracing::warn!(error = %error, "accepting a token whose liveness could not be checked (fail open)");
                    Ok(())
                }
            },
        }
    }

    async fn ask(&self, token: &str, claims: &Claims) -> Answer {
        let asked = Instant::now();
        let liveness = match self.request(token, claims).await {
            Ok(true) => Liveness::Active,
            Ok(false) => Liveness::Inactive,
            Err(error) => {
                tracing::warn!(error = %error, source = ?std::error::Error::source(&error), "token introspection failed");
                Liveness::Unavailable(Arc::new(error))
            }
        };
        let until_expiry = remaining(claims.expires_at);
        let reuse = match liveness {
            Liveness::Active => self.cache_ttl.min(until_expiry),
            Liveness::Inactive => until_expiry.max(UNAVAILABLE_TTL),
            Liveness::Unavailable(_) => UNAVAILABLE_TTL,
        };
        Answer { liveness, valid_until: asked + reuse }
    }

    async fn request(&self, token: &str, claims: &Claims) -> Result<bool, FetchError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("token_type_hint", "access_token")
            .finish();
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", self.credential.expose_secret()))
            .map_err(|_| self.invalid("the credential is not a valid header value".to_owned()))?;
        authorization.set_sensitive(true);
        let response = self
            .client
            .post(self.endpoint.clone())
            .header(AUTHORIZATION, authorization)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| http::transport(&self.endpoint, error))?;
        let body = http::read_body(&self.endpoint, response, MAX_BODY_BYTES).await?;
        let answer: IntrospectionAnswer =
            serde_json::from_slice(&body).map_err(|error| self.invalid(error.to_string()))?;
        if !answer.active {
            return Ok(false);
        }
        let differs = |said: Option<Uuid>, ours: Uuid| said.is_some_and(|said| said != ours);
        if differs(answer.sub, claims.subject)
            || differs(answer.sid, claims.session_id)
            || differs(answer.jti, claims.token_id)
        {
            return Err(self.invalid("the answer is about another token".to_owned()));
        }
        Ok(true)
    }

    fn invalid(&self, reason: String) -> FetchError {
        FetchError::Invalid { url: self.endpoint.to_string(), reason }
    }
}

/// Time left until `expires_at` (zero when past).
fn remaining(expires_at: OffsetDateTime) -> Duration {
    Duration::try_from(expires_at - OffsetDateTime::now_utc()).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_under_the_base_url() {
        let check = Introspection::new("http://127.0.0.1:9/base/", "s3rvice").build().unwrap();
        assert_eq!(check.endpoint.as_str(), "http://127.0.0.1:9/base/auth/introspect");
        let exact = Introspection::at_endpoint("https://auth.example.com/x/introspect", "s").build().unwrap();
        assert_eq!(exact.endpoint.as_str(), "https://auth.example.com/x/introspect");
    }

    #[test]
    fn unsafe_or_unusable_settings_are_refused() {
        assert!(matches!(
            Introspection::new("http://auth.example.com", "s").build(),
            Err(ConfigError::PlainHttp { .. })
        ));
        assert!(Introspection::new("http://auth.internal", "s").allow_plain_http(true).build().is_ok());
        assert!(Introspection::new("https://a.example", "").build().is_err());
        assert!(Introspection::new("https://a.example", "has space").build().is_err());
        let long = Introspection::new("https://a.example", "s").cache_for(Duration::from_secs(61));
        assert!(long.build().is_err());
    }

    #[test]
    fn the_credential_never_prints() {
        let config = Introspection::new("https://a.example", "hunter2-credential");
        assert!(!format!("{config:?}").contains("hunter2"));
        let check = config.build().unwrap();
        assert!(!format!("{check:?}").contains("hunter2"));
    }
}
