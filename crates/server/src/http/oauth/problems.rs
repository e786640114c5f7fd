//! How provider sign-in refusals and failures are answered.

use otp_core::OAuthSignInError;
use otp_core::ports::OAuthError;

use crate::http::problem::{ApiError, ProblemCode};

impl From<OAuthSignInError> for ApiError {
    fn from(error: OAuthSignInError) -> Self {
        let code = match error {
            OAuthSignInError::Failure(failure) => return failure.into(),
            OAuthSignInError::Provider(OAuthError::Unavailable(cause)) => {
                tracing::error!(error = %cause, "sign-in provider unavailable");
                return Self::new(
                    ProblemCode::OauthProviderUnavailable,
                    "the sign-in provider could not be reached or gave an unusable answer; try again shortly",
                );
            }
            OAuthSignInError::UnknownProvider => ProblemCode::NotFound,
            OAuthSignInError::ProviderNotConfigured(_) => ProblemCode::OauthProviderNotConfigured,
            OAuthSignInError::RedirectUriNotAllowed => ProblemCode::OauthRedirectUriNotAllowed,
            OAuthSignInError::StateInvalid => ProblemCode::OauthStateInvalid,
            OAuthSignInError::StateExpired => ProblemCode::OauthStateExpired,
            OAuthSignInError::StateProviderMismatch => ProblemCode::OauthStateProviderMismatch,
            OAuthSignInError::RedirectUriMismatch => ProblemCode::OauthRedirectUriMismatch,
            OAuthSignInError::ClientBindingMissing | OAuthSignInError::ClientBindingMismatch => {
                ProblemCode::OauthClientBindingInvalid
            }
            OAuthSignInError::AuthorizationCode(_) => ProblemCode::ValidationFailed,
            OAuthSignInError::Provider(ref refusal) => match refusal {
                OAuthError::CodeRejected => ProblemCode::OauthCodeRejected,
                OAuthError::InvalidIdToken(_) => ProblemCode::OauthIdTokenInvalid,
                OAuthError::IdTokenAudience => ProblemCode::OauthIdTokenAudience,
                OAuthError::IdTokenNonce => ProblemCode::OauthIdTokenNonce,
                OAuthError::EmailNotVerified => ProblemCode::OauthEmailNotVerified,
                OAuthError::Unavailable(_) => ProblemCode::OauthProviderUnavailable,
            },
            OAuthSignInError::AccountExists => ProblemCode::AccountExists,
            OAuthSignInError::AccountDisabled => ProblemCode::AccountDisabled,
            OAuthSignInError::RateLimited { .. } => ProblemCode::RateLimited,
        };
        let wait = match error {
            OAuthSignInError::RateLimited { retry_after } => Some(retry_after),
            _ => None,
        };
        Self::new(code, error.to_string()).retry_after(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_failures_each_have_their_own_code() {
        let codes: Vec<ProblemCode> = [
            OAuthError::CodeRejected,
            OAuthError::InvalidIdToken("bad signature".into()),
            OAuthError::IdTokenAudience,
            OAuthError::IdTokenNonce,
            OAuthError::EmailNotVerified,
            OAuthError::unavailable("timed out"),
        ]
        .into_iter()
        .map(|error| ApiError::from(OAuthSignInError::Provider(error)).code())
        .collect();
        let mut distinct = codes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), codes.len(), "{codes:?}");
        assert!(codes.iter().all(|code| code.as_str().starts_with("oauth_")));
    }

    #[test]
    fn provider_outages_are_bad_gateways_that_hide_their_cause() {
        let error = ApiError::from(OAuthSignInError::Provider(OAuthError::unavailable(
            "token endpoint said hunter2",
        )));
        assert_eq!((error.status().as_u16(), error.code().as_str()), (502, "oauth_provider_unavailable"));
        assert!(!error.detail().contains("hunter2"));
        let exists = ApiError::from(OAuthSignInError::AccountExists);
        assert_eq!((exists.status().as_u16(), exists.code().as_str()), (409, "account_exists"));
        let unverified = ApiError::from(OAuthSignInError::Provider(OAuthError::EmailNotVerified));
        assert_eq!(unverified.status().as_u16(), 403);
        let off = ApiError::from(OAuthSignInError::ProviderNotConfigured("github".into()));
        assert_eq!(off.status().as_u16(), 503);
        assert!(off.detail().contains("github"), "{}", off.detail());
    }
}
