//! The token of an `Authorization: Bearer …` header (RFC 6750 §2.1).

use crate::error::VerifyError;

/// The token in an `Authorization` header value.
///
/// # Errors
/// [`VerifyError::Missing`] without a header or with another scheme;
/// [`VerifyError::Malformed`] when the token has characters a Bearer token cannot have.
pub fn bearer_token(authorization: Option<&[u8]>) -> Result<&str, VerifyError> {
    let value = authorization.ok_or(VerifyError::Missing)?;
    let text = std::str::from_utf8(value).map_err(|_| VerifyError::Malformed)?;
    let (scheme, token) = text.trim().split_once(' ').ok_or(VerifyError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(VerifyError::Missing);
    }
    let token = token.trim_start_matches(' ');
    let b64token = |byte: u8| byte.is_ascii_alphanumeric() || b"-._~+/=".contains(&byte);
    if token.is_empty() || !token.bytes().all(b64token) {
        return Err(VerifyError::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_token_of_any_spelling_of_bearer() {
        for header in ["Bearer v4.public.abc", "bearer  v4.public.abc", "BEARER v4.public.abc "] {
            assert_eq!(bearer_token(Some(header.as_bytes())).unwrap(), "v4.public.abc", "{header}");
        }
    }

    #[test]
    fn other_schemes_and_no_header_are_missing_tokens() {
        for header in [None, Some("Basic YWRhOnB3".as_bytes()), Some(b"Bearer"), Some(b"v4.public.abc")] {
            assert!(matches!(bearer_token(header), Err(VerifyError::Missing)), "{header:?}");
        }
    }

    #[test]
    fn tokens_with_foreign_characters_are_malformed() {
        for header in ["Bearer a b", "Bearer a\"b", "Bearer   ", "Bearer ä"] {
            assert!(bearer_token(Some(header.as_bytes())).is_err(), "{header}");
        }
        assert!(matches!(bearer_token(Some(b"Bearer \xff")), Err(VerifyError::Malformed)));
    }
}
