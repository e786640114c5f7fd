//! Test-only RSA keys (`tests/fixtures/`) that sign the fake Google's ID tokens.

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKey, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, EndUserEmail, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};

/// One of the two committed test keys. They protect nothing; never use them elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    /// `test-key-1`, published by the fake from the start.
    First,
    /// `test-key-2`, for rotations and for tokens signed by a key nobody publishes.
    Second,
}

impl TestKey {
    /// The key id (`kid`) it is published and used under.
    pub fn kid(self) -> &'static str {
        match self {
            Self::First => "test-key-1",
            Self::Second => "test-key-2",
        }
    }

    fn pem(self) -> &'static str {
        match self {
            Self::First => include_str!("../../tests/fixtures/test-signing-key-1.pem"),
            Self::Second => include_str!("../../tests/fixtures/test-signing-key-2.pem"),
        }
    }

    fn signing_key(self) -> CoreRsaPrivateSigningKey {
        CoreRsaPrivateSigningKey::from_pem(self.pem(), Some(JsonWebKeyId::new(self.kid().to_owned())))
            .unwrap_or_else(|error| panic!("the committed test key {} does not load: {error}", self.kid()))
    }

    /// The public half as a JWK, as a JWKS endpoint publishes it.
    pub fn jwk(self) -> CoreJsonWebKey {
        self.signing_key().as_verification_key()
    }

    /// Signs `claims` with RS256 into a compact JWT.
    pub fn sign(self, claims: CoreIdTokenClaims) -> String {
        CoreIdToken::new(
            claims,
            &self.signing_key(),
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            None,
            None,
        )
        .unwrap_or_else(|error| panic!("signing a test ID token: {error}"))
        .to_string()
    }
}

/// The claims of an ID token.
#[derive(Debug, Clone)]
pub struct IdTokenContent {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// `sub`.
    pub subject: String,
    /// `email`.
    pub email: String,
    /// `email_verified`.
    pub email_verified: bool,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `iat`.
    pub issued_at: DateTime<Utc>,
    /// `exp`.
    pub expires_at: DateTime<Utc>,
}

impl IdTokenContent {
    /// The typed claims.
    pub fn claims(&self) -> CoreIdTokenClaims {
        let standard = StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(self.subject.clone()))
            .set_email(Some(EndUserEmail::new(self.email.clone())))
            .set_email_verified(Some(self.email_verified));
        CoreIdTokenClaims::new(
            IssuerUrl::new(self.issuer.clone()).unwrap_or_else(|error| panic!("test issuer: {error}")),
            vec![Audience::new(self.audience.clone())],
            self.expires_at,
            self.issued_at,
            standard,
            EmptyAdditionalClaims {},
        )
        .set_nonce(self.nonce.clone().map(Nonce::new))
    }
}
