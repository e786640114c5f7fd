//! Every problem code the API answers, declared once with its HTTP status, title and
//! meaning. The OpenAPI `ProblemCode` schema, the per-route problem responses and the
//! error mapping of every capability are made from this table; a test checks the
//! error table in `docs/api.md` against it.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use serde::{Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

macro_rules! problem_codes {
    ($( $(#[doc = $doc:literal])+ $variant:ident = ($code:literal, $status:ident, $title:literal); )+) => {
        /// A machine code of a problem response (the `code` field): what happened, for
        /// programs to branch on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ProblemCode {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl ProblemCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The code as clients see it.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            /// The HTTP status it is answered with.
            pub const fn status(self) -> StatusCode {
                match self { $(Self::$variant => StatusCode::$status,)+ }
            }

            /// A short summary of the problem type (the `title` field).
            pub const fn title(self) -> &'static str {
                match self { $(Self::$variant => $title,)+ }
            }

            /// What it means, for the API documentation.
            pub fn meaning(self) -> &'static str {
                match self { $(Self::$variant => concat!($($doc),+).trim_start(),)+ }
            }
        }
    };
}

problem_codes! {
    /// A field, the body or the query string is invalid (also answered with 400 when
    /// the body is not JSON at all).
    ValidationFailed = ("validation_failed", UNPROCESSABLE_ENTITY, "Invalid request");
    /// The body is larger than 16 KiB.
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE, "Request body too large");
    /// The body is not sent as `application/json`.
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Body must be JSON");
    /// The new password (at `register` or `password/reset`) is too easy to guess: a
    /// common password, a keyboard pattern, a word with digits, or the address itself.
    /// The detail says why and what would help; see `PASSWORD_MIN_STRENGTH`.
    PasswordTooWeak = ("password_too_weak", UNPROCESSABLE_ENTITY, "Password too easy to guess");
    /// Unknown address, wrong password, or an account without a password: the same
    /// answer for each.
    InvalidCredentials = ("invalid_credentials", UNAUTHORIZED, "Email or password is incorrect");
    /// The access or refresh token is missing, malformed, expired or revoked (with
    /// `WWW-Authenticate: Bearer error="invalid_token"`).
    TokenInvalid = ("token_invalid", UNAUTHORIZED, "Token is invalid");
    /// `POST /auth/introspect` was called without a Bearer service credential, or with
    /// one that is not in `INTROSPECTION_TOKENS` (with `WWW-Authenticate: Bearer`).
    ServiceCredentialInvalid = ("service_credential_invalid", UNAUTHORIZED, "Service credential is invalid");
    /// The account is disabled (or was deleted while this sign-in ran).
    AccountDisabled = ("account_disabled", FORBIDDEN, "Account disabled");
    /// The caller is not an administrator.
    Forbidden = ("forbidden", FORBIDDEN, "Forbidden");
    /// An admin action the rules refuse: on the caller's own account, on the
    /// `ADMIN_EMAIL` account, or the admin role for an unverified address.
    ActionRefused = ("action_refused", CONFLICT, "Action refused");
    /// No such route or resource.
    NotFound = ("not_found", NOT_FOUND, "Not found");
    /// The path exists, but not with this method (the `Allow` header lists those it has).
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed");
    /// The code is wrong, already used, or none was issued.
    OtpInvalid = ("otp_invalid", BAD_REQUEST, "Code is incorrect");
    /// The code's lifetime has passed; request a new one.
    OtpExpired = ("otp_expired", BAD_REQUEST, "Code has expired");
    /// Too many wrong codes; the code is dead even with the right digits.
    OtpAttemptsExceeded = ("otp_attempts_exceeded", BAD_REQUEST, "Too many wrong codes");
    /// A code went to this address within `OTP_RESEND_COOLDOWN_SECONDS` (it still
    /// works); `Retry-After` says when a new one may be asked for.
    OtpCooldown = ("otp_cooldown", TOO_MANY_REQUESTS, "Code sent recently");
    /// Too many code guesses for this address in 24 hours (`OTP_MAX_FAILURES_PER_DAY`)
    /// from clients without one of the account's remembered devices: code sign-in is
    /// refused for them, even with the right code; `Retry-After` says when it opens.
    OtpLocked = ("otp_locked", TOO_MANY_REQUESTS, "Code sign-in locked");
    /// Too many requests from this client or for this address; `Retry-After` says when
    /// to try again.
    RateLimited = ("rate_limited", TOO_MANY_REQUESTS, "Too many requests");
    /// The `redirect_uri` of a provider sign-in is neither the provider's redirect URI
    /// nor on `OAUTH_ALLOWED_REDIRECT_URIS`.
    OauthRedirectUriNotAllowed =
        ("oauth_redirect_uri_not_allowed", BAD_REQUEST, "Redirect URI not allowed");
    /// The callback's `redirect_uri` differs from the one the sign-in started with.
    OauthRedirectUriMismatch = ("oauth_redirect_uri_mismatch", BAD_REQUEST, "Redirect URI mismatch");
    /// The sign-in `state` is unknown, malformed or already used.
    OauthStateInvalid = ("oauth_state_invalid", BAD_REQUEST, "Sign-in state is invalid");
    /// The sign-in `state` has expired; start again.
    OauthStateExpired = ("oauth_state_expired", BAD_REQUEST, "Sign-in state has expired");
    /// The sign-in `state` was issued for another provider.
    OauthStateProviderMismatch =
        ("oauth_state_provider_mismatch", BAD_REQUEST, "Sign-in state is for another provider");
    /// The callback's `client_binding` is missing or is not the one `start` gave the
    /// client that began this sign-in (a callback lured from another sign-in).
    OauthClientBindingInvalid =
        ("oauth_client_binding_invalid", BAD_REQUEST, "Sign-in was started by another client");
    /// The provider refused the authorization code (wrong, used, expired, or a wrong
    /// PKCE verifier).
    OauthCodeRejected = ("oauth_code_rejected", BAD_REQUEST, "Provider refused the code");
    /// The provider's ID token is malformed, badly signed, expired or from another
    /// issuer.
    OauthIdTokenInvalid = ("oauth_id_token_invalid", BAD_REQUEST, "Provider ID token is invalid");
    /// The provider's ID token was issued to another client.
    OauthIdTokenAudience = ("oauth_id_token_audience", BAD_REQUEST, "Provider ID token is for another client");
    /// The provider's ID token does not carry this sign-in's nonce.
    OauthIdTokenNonce = ("oauth_id_token_nonce", BAD_REQUEST, "Provider ID token nonce mismatch");
    /// The provider has no verified address for the person.
    OauthEmailNotVerified = ("oauth_email_not_verified", FORBIDDEN, "Provider address not verified");
    /// The provider's verified address belongs to an account whose address was never
    /// verified, so the identity is not linked to it; sign in by code first.
    AccountExists = ("account_exists", CONFLICT, "Account exists");
    /// The provider could not be reached or gave an unusable answer (the cause is
    /// logged).
    OauthProviderUnavailable = ("oauth_provider_unavailable", BAD_GATEWAY, "Provider unavailable");
    /// Sign-in with this provider is not configured on this server.
    OauthProviderNotConfigured =
        ("oauth_provider_not_configured", SERVICE_UNAVAILABLE, "Provider not configured");
    /// Every password-hashing worker is busy and the waiting queue
    /// (`PASSWORD_HASH_QUEUE`) is full: nothing was checked or changed. It depends on
    /// load only, never on the address; `Retry-After` says when to try again.
    ServerBusy = ("server_busy", SERVICE_UNAVAILABLE, "Server busy");
    /// The mail backlog is too long for a new code to arrive while it is still valid,
    /// or this client already has `MAIL_QUEUE_PER_CLIENT` mails queued: no code was
    /// issued. It depends on the backlog and the client only, never on the address;
    /// `Retry-After` estimates when to try again.
    MailBacklog = ("mail_backlog", SERVICE_UNAVAILABLE, "Mail backed up");
    /// An account change (`password/change`, `email/change`, `DELETE me`) was sent
    /// without the confirmation it needs: the current password for an account that has
    /// one, a fresh code from `me/code` otherwise (the detail says which).
    ConfirmationRequired = ("confirmation_required", FORBIDDEN, "Confirmation required");
    /// The account cannot move to this address: it came to belong to another account
    /// after the code was sent (or, for an undo, after the change).
    EmailUnavailable = ("email_unavailable", CONFLICT, "Address unavailable");
    /// The undo link of an address change is malformed, wrong, expired (72 hours) or
    /// already used.
    UndoInvalid = ("undo_invalid", BAD_REQUEST, "Undo link is invalid");
    /// Unlinking this provider would leave the account without a way to sign in it has
    /// used (see `docs/account.md`): set a password first.
    LastSignInMethod = ("last_sign_in_method", CONFLICT, "Last way to sign in");
    /// PostgreSQL, Redis or the mailer cannot be reached; try again shortly.
    Unavailable = ("unavailable", SERVICE_UNAVAILABLE, "Service unavailable");
    /// An unexpected error; the cause is logged, never shown.
    Internal = ("internal", INTERNAL_SERVER_ERROR, "Internal error");
}

impl Serialize for ProblemCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for ProblemCode {
    fn schema() -> RefOr<Schema> {
        let mut table =
            String::from("Every code, with its HTTP status:\n\n| code | status | meaning |\n|---|---|---|\n");
        for code in Self::ALL {
            table.push_str(&format!(
                "| `{}` | {} | {} |\n",
                code.as_str(),
                code.status().as_u16(),
                code.meaning()
            ));
        }
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL.iter().map(|code| code.as_str())))
            .description(Some(table))
            .into()
    }
}

impl utoipa::ToSchema for ProblemCode {}

/// The codes grouped by the status they are answered with.
pub fn by_status(codes: &[ProblemCode]) -> BTreeMap<StatusCode, Vec<ProblemCode>> {
    let mut grouped: BTreeMap<StatusCode, Vec<ProblemCode>> = BTreeMap::new();
    for code in codes {
        grouped.entry(code.status()).or_default().push(*code);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_documented() {
        let mut seen = BTreeSet::new();
        for code in ProblemCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(text.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'_'), "{text}");
            assert!(code.status().is_client_error() || code.status().is_server_error(), "{text}");
            assert!(!code.title().is_empty() && code.meaning().len() > 10, "{text}");
        }
    }

    #[test]
    fn the_schema_lists_every_code() {
        let schema = serde_json::to_value(<ProblemCode as utoipa::PartialSchema>::schema()).unwrap();
        let listed: Vec<&str> =
            schema["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let all: Vec<&str> = ProblemCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(listed, all);
        assert_eq!(serde_json::to_value(ProblemCode::OtpCooldown).unwrap(), "otp_cooldown");
    }

    /// The rows of the code table in `docs/api.md`: each code with the first status
    /// its status column names.
    fn documented_in_api_md() -> Vec<(String, u16)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");
        let text = std::fs::read_to_string(path).unwrap();
        let table = text.split("### Codes and statuses").nth(1).expect("docs/api.md has a code table");
        table
            .lines()
            .skip_while(|line| !line.starts_with("| code | status |"))
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let code = cells[1].trim_matches('`').to_owned();
                let status = cells[2].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
                (code, status)
            })
            .collect()
    }

    #[test]
    fn the_docs_table_lists_exactly_the_codes_with_their_statuses() {
        let documented = documented_in_api_md();
        let declared: Vec<(String, u16)> =
            ProblemCode::ALL.iter().map(|code| (code.as_str().to_owned(), code.status().as_u16())).collect();
        for row in &declared {
            assert!(documented.contains(row), "{row:?} is not in the table of docs/api.md");
        }
        for row in &documented {
            assert!(declared.contains(row), "docs/api.md lists {row:?}, which the server does not answer");
        }
    }
}
