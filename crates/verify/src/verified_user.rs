//! The caller proven by a Bearer access token, as the web-framework extractors give it.

use std::ops::Deref;

use crate::claims::Claims;

/// The caller, proven by a Bearer access token: the extractor of both
/// [`crate::actix`] and [`crate::axum`]. Dereferences to its [`Claims`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUser(pub Claims);

impl Deref for VerifiedUser {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.0
    }
}

impl From<VerifiedUser> for Claims {
    fn from(user: VerifiedUser) -> Self {
        user.0
    }
}
