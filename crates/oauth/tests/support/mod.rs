//! What the provider tests share: a sign-in's secrets as the domain would make them.

use otp_core::ports::{AuthorizationRequest, CodeExchange};
use otp_core::service::oauth::pkce_challenge;
use otp_oauth::testing::Authorized;

pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/oauth/callback";

/// The secrets of one started sign-in.
pub struct SignIn {
    pub request: AuthorizationRequest,
    pub verifier: String,
}

fn random() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())[..43].to_owned()
}

impl SignIn {
    pub fn new() -> Self {
        let verifier = random();
        let request = AuthorizationRequest {
            state: random(),
            code_challenge: pkce_challenge(&verifier),
            nonce: random(),
            redirect_uri: REDIRECT_URI.to_owned(),
        };
        Self { request, verifier }
    }

    /// The callback's exchange for `authorized`, with this sign-in's verifier and nonce.
    pub fn exchange(&self, authorized: &Authorized) -> CodeExchange {
        assert_eq!(authorized.state, self.request.state, "the provider echoes the state");
        CodeExchange {
            code: authorized.code.clone(),
            code_verifier: self.verifier.clone(),
            nonce: self.request.nonce.clone(),
            redirect_uri: self.request.redirect_uri.clone(),
        }
    }
}
