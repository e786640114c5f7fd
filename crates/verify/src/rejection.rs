//! The answer to a request whose token is refused: RFC 9457 problem details shaped
//! like the auth server's own, with the RFC 6750 `WWW-Authenticate` challenge.

use serde::Serialize;

use crate::error::VerifyError;

/// The media type of the answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before trying again after a 503.
const RETRY_AFTER_SECONDS: u64 = 5;

/// Why a request was turned away by the extractor or middleware.
///
/// | case | status | `code` | headers |
/// |---|---|---|---|
/// | no Bearer token | 401 | `token_invalid` | `WWW-Authenticate: Bearer` |
/// | token refused ([`VerifyError`]) | 401 | `token_invalid` | `WWW-Authenticate: Bearer error="invalid_token"` |
/// | keys or liveness unavailable | 503 | `unavailable` | `Retry-After: 5` |
/// | no [`crate::Verifier`] installed | 500 | `internal` | |
///
/// Every answer is `application/problem+json` with `Cache-Control: no-store`, e.g.
/// `{"type":"urn:otp-auth:problem:token_invalid","title":"Unauthorized","status":401,
/// "detail":"access token has expired","code":"token_invalid"}`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The token is missing, refused, or could not be checked.
    #[error(transparent)]
    Token(#[from] VerifyError),
    /// The route is not set up with a verifier (a programming error, logged).
    #[error("no otp_verify::Verifier is installed for this route")]
    NotConfigured,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
}

/// The parts of the answer, independent of the web framework.
pub(crate) struct ProblemAnswer {
    pub(crate) status: u16,
    pub(crate) www_authenticate: Option<&'static str>,
    pub(crate) retry_after: Option<u64>,
    pub(crate) body: Vec<u8>,
}

impl Rejection {
    /// The HTTP status: 401, 503 or 500.
    pub fn status(&self) -> u16 {
        match self {
            Self::Token(error) if error.is_unavailable() => 503,
            Self::Token(_) => 401,
            Self::NotConfigured => 500,
        }
    }

    /// The machine code of the problem body.
    pub fn code(&self) -> &'static str {
        match self.status() {
            401 => "token_invalid",
            503 => "unavailable",
            _ => "internal",
        }
    }

    pub(crate) fn answer(&self) -> ProblemAnswer {
        let status = self.status();
        let (title, detail) = match self {
            Self::Token(error) if status == 401 => ("Unauthorized", error.public_detail()),
            Self::Token(error) => {
                tracing::warn!(error = %error, source = ?std::error::Error::source(error), "cannot check access tokens");
                ("Service Unavailable", error.public_detail())
            }
            Self::NotConfigured => {
                tracing::error!(
                    "{self}: add the middleware or layer, or the Verifier as app data / extension"
                );
                ("Internal Server Error", "an unexpected error occurred")
            }
        };
        let www_authenticate = match self {
            Self::Token(VerifyError::Missing) => Some("Bearer"),
            _ if status == 401 => Some(r#"Bearer error="invalid_token""#),
            _ => None,
        };
        let code = self.code();
        let problem = Problem { kind: format!("urn:otp-auth:problem:{code}"), title, status, detail, code };
        ProblemAnswer {
            status,
            www_authenticate,
            retry_after: (status == 503).then_some(RETRY_AFTER_SECONDS),
            body: serde_json::to_vec(&problem).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::error::FetchError;

    fn body(answer: &ProblemAnswer) -> serde_json::Value {
        serde_json::from_slice(&answer.body).unwrap()
    }

    #[test]
    fn refused_tokens_are_401_token_invalid_with_the_bearer_challenge() {
        let answer = Rejection::from(VerifyError::Expired).answer();
        assert_eq!((answer.status, answer.www_authenticate), (401, Some(r#"Bearer error="invalid_token""#)));
        assert_eq!(
            body(&answer),
            serde_json::json!({"type": "urn:otp-auth:problem:token_invalid", "title": "Unauthorized",
                "status": 401, "detail": "access token has expired", "code": "token_invalid"})
        );
        let missing = Rejection::from(VerifyError::Missing).answer();
        assert_eq!((missing.status, missing.www_authenticate), (401, Some("Bearer")));
        let forged = Rejection::from(VerifyError::BadSignature).answer();
        assert_eq!(body(&forged)["detail"], "access token is invalid");
    }

    #[test]
    fn an_unreachable_auth_server_is_503_and_hides_the_cause() {
        let cause = Arc::new(FetchError::Status { url: "https://secret.internal/k".into(), status: 500 });
        let answer = Rejection::from(VerifyError::KeysUnavailable(cause)).answer();
        assert_eq!((answer.status, answer.retry_after, answer.www_authenticate), (503, Some(5), None));
        assert_eq!(body(&answer)["code"], "unavailable");
        assert!(!String::from_utf8(answer.body).unwrap().contains("secret.internal"));
    }

    #[test]
    fn a_missing_verifier_is_a_500() {
        let answer = Rejection::NotConfigured.answer();
        assert_eq!((answer.status, body(&answer)["code"].as_str()), (500, Some("internal")));
    }
}
