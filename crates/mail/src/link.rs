//! The sign-in link: the page's address with the address and code in the fragment.

/// `{public_url}/#email=…&code=…`. The fragment never leaves the browser: no request
/// line, proxy log or `Referer` carries the code, and opening the link does nothing but
/// show the page (the page signs in only when the person presses its button).
pub(crate) fn sign_in_link(public_url: &str, email: &str, code: &str) -> String {
    format!("{}/#email={}&code={}", public_url.trim_end_matches('/'), encode(email), encode(code))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_and_code_travel_in_the_fragment_encoded() {
        assert_eq!(
            sign_in_link("https://auth.example/", "a+b@example.com", "042917"),
            "https://auth.example/#email=a%2Bb%40example.com&code=042917"
        );
    }
}
