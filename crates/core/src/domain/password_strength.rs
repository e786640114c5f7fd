//! How hard a new password is to guess: common, keyboard-walk, dictionary and
//! personal-data passwords are refused (NIST SP 800-63B §3.1.1.2, ASVS 6.2.11).

use std::fmt;

use zxcvbn::Score;

use super::{EmailAddress, Password};

/// Lowest configurable minimum score: every password the estimator puts below it is
/// one of the most common or a trivial pattern (`password`, `12345678`).
pub const MIN_STRENGTH: u8 = 2;
/// Highest score the estimator gives.
pub const MAX_STRENGTH: u8 = 4;

/// Characters of a password the estimator reads. Its work grows faster than the
/// length; a password that is strong in its first 64 characters stays strong.
const ESTIMATED_CHARS: usize = 64;

/// The minimum strength a new password must have, as a zxcvbn score from
/// [`MIN_STRENGTH`] to [`MAX_STRENGTH`] (3 by default: about 10^8 guesses or more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordStrength {
    min_score: u8,
}

impl Default for PasswordStrength {
    fn default() -> Self {
        Self { min_score: 3 }
    }
}

/// A new password that is too easy to guess, with advice for a better one. It never
/// holds the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakPassword {
    /// The estimator's score, 0 to 4.
    pub score: u8,
    /// The score needed.
    pub required: u8,
    /// Why it is weak and what would help, in a sentence or two.
    pub advice: String,
}

impl fmt::Display for WeakPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "this password is too easy to guess (strength {} of 4, at least {} needed). {}",
            self.score, self.required, self.advice
        )
    }
}

impl PasswordStrength {
    /// A minimum of `min_score`; `None` when it is not between [`MIN_STRENGTH`] and
    /// [`MAX_STRENGTH`].
    pub fn new(min_score: u8) -> Option<Self> {
        (MIN_STRENGTH..=MAX_STRENGTH).contains(&min_score).then_some(Self { min_score })
    }

    /// The minimum score.
    pub fn min_score(self) -> u8 {
        self.min_score
    }

    /// Checks `password`, chosen for the account of `email`, whose parts count as
    /// guessable words.
    ///
    /// # Errors
    /// [`WeakPassword`] when its score is below the minimum.
    pub fn check(self, password: &Password, email: &EmailAddress) -> Result<(), WeakPassword> {
        let text = password.expose();
        let end = text.char_indices().nth(ESTIMATED_CHARS).map_or(text.len(), |(index, _)| index);
        let address = email.as_str();
        let mut personal: Vec<&str> = vec![address];
        personal.extend(address.split(['@', '.', '-', '_', '+']).filter(|part| part.len() >= 3));
        let estimate = zxcvbn::zxcvbn(&text[..end], &personal);
        let score = u8::from(estimate.score());
        if score >= self.min_score {
            return Ok(());
        }
        Err(WeakPassword { score, required: self.min_score, advice: advice(&estimate) })
    }
}

fn advice(estimate: &zxcvbn::Entropy) -> String {
    let mut sentences = Vec::new();
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            sentences.push(warning.to_string());
        }
        sentences.extend(feedback.suggestions().iter().map(ToString::to_string));
    }
    if sentences.is_empty() || estimate.score() < Score::Three {
        sentences
            .push("A passphrase of four or more unrelated words is strong and easy to remember.".to_owned());
    }
    sentences.dedup();
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn check(text: &str) -> Result<(), WeakPassword> {
        let email = EmailAddress::parse("ann.smith@example.com").unwrap();
        PasswordStrength::default().check(&Password::new(text.to_owned()).unwrap(), &email)
    }

    #[test]
    fn common_and_patterned_passwords_are_refused_with_advice() {
        for weak in [
            "password",
            "12345678",
            "qwertyuiop",
            "iloveyou1",
            "Password1!",
            "ann.smith@example.com",
            "aaaaaaaaaa",
        ] {
            let refused = check(weak).expect_err(weak);
            assert!(refused.score < 3, "{weak}: {refused:?}");
            assert!(!refused.advice.is_empty());
            if weak != "password" {
                assert!(!refused.to_string().contains(weak), "the message never quotes the password");
            }
        }
    }

    #[test]
    fn passphrases_and_random_passwords_pass() {
        for strong in ["correct horse battery staple", "vN4#qT9!zR2$", "maple Trumpet orbit 71"] {
            check(strong).unwrap_or_else(|weak| panic!("{strong}: {weak}"));
        }
    }

    #[test]
    fn the_minimum_is_bounded() {
        assert!(PasswordStrength::new(1).is_none());
        assert!(PasswordStrength::new(5).is_none());
        assert_eq!(PasswordStrength::new(4).unwrap().min_score(), 4);
    }

    #[test]
    fn the_longest_password_is_estimated_quickly() {
        check("warm up the dictionaries").ok();
        for long in [
            "correct horse battery staple ".repeat(5).chars().take(128).collect::<String>(),
            "a1".repeat(64),
            "é".repeat(128),
        ] {
            let start = Instant::now();
            let _ = check(&long);
            let took = start.elapsed();
            eprintln!("estimated {} characters in {took:?}", long.chars().count());
            assert!(took.as_millis() < 250, "took {took:?}");
        }
    }
}
