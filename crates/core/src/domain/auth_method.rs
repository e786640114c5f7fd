//! How a session signed in: the `amr` claim of its access tokens.

use std::fmt;
use std::str::FromStr;

use crate::error::ValidationError;

/// Longest provider name an [`AuthMethod::OAuth`] carries.
pub const MAX_PROVIDER_NAME_CHARS: usize = 64;

/// One way a session proved who signed in (an `amr` value, after RFC 8176's
/// "authentication methods references").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// A one-time code sent by mail (`otp`).
    Otp,
    /// A password (`pwd`).
    Password,
    /// A sign-in provider (`oauth:google`, `oauth:github`, …); the name is lowercase
    /// ASCII letters, digits, `-` and `_`.
    OAuth(String),
}

impl AuthMethod {
    /// The method of a sign-in with `provider`.
    ///
    /// # Errors
    /// [`ValidationError`] when the name is empty, longer than
    /// [`MAX_PROVIDER_NAME_CHARS`] or holds other characters than lowercase ASCII
    /// letters, digits, `-` and `_`.
    pub fn oauth(provider: &str) -> Result<Self, ValidationError> {
        let valid = !provider.is_empty()
            && provider.len() <= MAX_PROVIDER_NAME_CHARS
            && provider
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"-_".contains(&byte));
        if valid {
            Ok(Self::OAuth(provider.to_owned()))
        } else {
            Err(ValidationError::new("amr", "a provider name is lowercase letters, digits, '-' and '_'"))
        }
    }

    /// The wire name: `otp`, `pwd` or `oauth:{provider}`.
    pub fn as_claim(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Otp => f.write_str("otp"),
            Self::Password => f.write_str("pwd"),
            Self::OAuth(provider) => write!(f, "oauth:{provider}"),
        }
    }
}

impl FromStr for AuthMethod {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "otp" => Ok(Self::Otp),
            "pwd" => Ok(Self::Password),
            _ => match raw.strip_prefix("oauth:") {
                Some(provider) => Self::oauth(provider),
                None => Err(ValidationError::new("amr", "must be \"otp\", \"pwd\" or \"oauth:<provider>\"")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_round_trip_through_their_claim_names() {
        let methods = [AuthMethod::Otp, AuthMethod::Password, AuthMethod::oauth("google").unwrap()];
        for method in methods {
            assert_eq!(method.as_claim().parse::<AuthMethod>().unwrap(), method);
        }
        assert_eq!(AuthMethod::oauth("github").unwrap().as_claim(), "oauth:github");
        assert_eq!(AuthMethod::Password.as_claim(), "pwd");
    }

    #[test]
    fn unknown_names_and_odd_providers_are_refused() {
        for raw in ["OTP", "password", "oauth:", "oauth:Google", "oauth:a b", "", "oauth:g:h"] {
            assert_eq!(raw.parse::<AuthMethod>().unwrap_err().field, "amr", "{raw:?}");
        }
        assert!(AuthMethod::oauth(&"a".repeat(MAX_PROVIDER_NAME_CHARS + 1)).is_err());
    }
}
