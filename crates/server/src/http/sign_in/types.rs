//! Request and response bodies of the sign-in routes. Requests refuse unknown fields;
//! secrets are read into [`Secret`]s so they never print.

use otp_core::EmailAddress;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::secret::Secret;

/// An email address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailRequest {
    /// Trimmed and lower-cased; at most 254 characters; a plain `local@domain.tld` address.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
}

/// An address to mail a code to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeRequest {
    /// Trimmed and lower-cased; at most 254 characters; a plain `local@domain.tld` address.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
    /// The `registration_token` from `register`, when this client registered the
    /// address: without it (or the same network and user agent within the code's
    /// lifetime) the pending password of the registration is dropped.
    #[schema(value_type = Option<String>, format = Password)]
    #[serde(default)]
    pub registration_token: Option<Secret>,
}

/// A code for an address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyRequest {
    /// The address the code was sent to.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
    /// The `registration_token` from `register`, when this client registered the
    /// address: the registration's password is kept only for the client that
    /// registered (recognised by this token, or by the same network and user agent
    /// within the code's lifetime).
    #[schema(value_type = Option<String>, format = Password)]
    #[serde(default)]
    pub registration_token: Option<Secret>,
    /// Exactly `OTP_LENGTH` digits (6 by default); surrounding white space is ignored.
    /// `otp` is accepted as an alias, for clients of the Python services.
    #[serde(alias = "otp")]
    #[schema(value_type = String, pattern = r"^\s*[0-9]{4,10}\s*$", example = "123456")]
    pub code: Secret,
}

/// An address and its password, to log in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialsRequest {
    /// The account's address.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
    /// Any string (a wrong one answers like an unknown address).
    #[schema(value_type = String, format = Password, example = "correct horse battery")]
    pub password: Secret,
}

/// An address and the password chosen for it, to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistrationRequest {
    /// The address to register.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
    /// 8 to 128 characters.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128, example = "correct horse battery")]
    pub password: Secret,
    /// The language for the account's mail and page (as `PUT me/locale`); without it,
    /// the request's `Accept-Language` is kept for the new account.
    #[serde(default)]
    #[schema(example = "fr", max_length = 35)]
    pub locale: Option<String>,
}

/// A reset code and the new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequest {
    /// The account's address.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
    /// The reset code from the mail (`otp` is accepted as an alias).
    #[serde(alias = "otp")]
    #[schema(value_type = String, pattern = r"^\s*[0-9]{4,10}\s*$", example = "123456")]
    pub code: Secret,
    /// 8 to 128 characters.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub new_password: Secret,
}

/// A code was issued (the same answer for every address).
#[derive(Serialize, ToSchema)]
pub(crate) struct CodeSent {
    /// For people.
    #[schema(example = "If the address can receive mail, a code has been sent to it.")]
    pub message: &'static str,
    /// The address as given, normalised (trimmed, lower-cased), whether or not it has
    /// an account.
    #[schema(example = "ann@example.com")]
    pub email: String,
    /// The code's lifetime in seconds.
    #[schema(example = 300)]
    pub expires_in: u64,
    /// The same as `expires_in`, under the name the first Python service's clients read.
    #[schema(example = 300)]
    pub expires_in_seconds: u64,
}

/// A registration code was issued (the same answer for every address).
#[derive(Serialize, ToSchema)]
pub(crate) struct RegistrationStarted {
    /// For people.
    #[schema(example = "If the address can receive mail, a code has been sent to it.")]
    pub message: &'static str,
    /// The address as given, normalised, whether or not it has an account.
    #[schema(example = "ann@example.com")]
    pub email: String,
    /// The code's lifetime in seconds.
    #[schema(example = 300)]
    pub expires_in: u64,
    /// The same as `expires_in`, under the name the first Python service's clients read.
    #[schema(example = 300)]
    pub expires_in_seconds: u64,
    /// Send it back as `registration_token` with `verify-otp` (and `resend-otp`): the
    /// password becomes usable only when the client that registered enters the code.
    /// Given for every address; keep it only until the code is entered.
    pub registration_token: String,
}

/// The password was right, and a code must now be entered at `verify-otp`.
#[derive(Serialize, ToSchema)]
pub(crate) struct CodeRequired {
    /// Always `true`.
    pub otp_required: bool,
    /// For people.
    #[schema(example = "Enter the code sent to your email address to finish logging in.")]
    pub message: &'static str,
    /// Seconds left in the code's lifetime.
    #[schema(example = 300)]
    pub expires_in: u64,
    /// Present when no new code was sent because one went out within the cooldown:
    /// the seconds until a new code may be asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend_after: Option<u64>,
}
