//! An axum service that signs people in by emailed code with `otp-core` on the
//! in-memory adapters: no otp-server, no database. Codes are written as `.eml` files to
//! `MAIL_DIR` (default `var/mail`).
//!
//! ```sh
//! cargo run -p otp-memory --example axum_service
//! curl -X POST -H 'Content-Type: application/json' -d '{"email":"ada@example.com"}' http://127.0.0.1:3000/send-code
//! curl -X POST -H 'Content-Type: application/json' -d '{"email":"ada@example.com","code":"123456"}' http://127.0.0.1:3000/verify-code
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:3000/me
//! ```

use std::error::Error;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use otp_core::crypto::{
    Argon2Settings, KeyedHasher, Keyring, PasswordHasher, ServiceCredentials, SigningKey,
};
use otp_core::ports::SystemClock;
use otp_core::{
    AuthPolicy, ClientContext, EmailAddress, OAuthProviders, OtpCode, Principal, Secrets, Services,
    SessionError,
};
use otp_mail::{Composer, ComposerConfig, MailRenderer, RendererConfig};
use otp_memory::{FolderMailer, memory_stores};
use serde_json::{Value, json};

type Shared = Arc<Services>;

/// An error answer: a status and a short reason (the domain's message, never a secret).
type Refusal = (StatusCode, Json<Value>);

fn refuse(status: StatusCode, reason: impl ToString) -> Refusal {
    (status, Json(json!({ "error": reason.to_string() })))
}

fn address(body: &Value) -> Result<EmailAddress, Refusal> {
    let raw = body["email"].as_str().unwrap_or_default();
    EmailAddress::parse(raw).map_err(|error| refuse(StatusCode::UNPROCESSABLE_ENTITY, error))
}

async fn send_code(State(services): State<Shared>, Json(body): Json<Value>) -> Response {
    let email = match address(&body) {
        Ok(email) => email,
        Err(refused) => return refused.into_response(),
    };
    match services.sign_in.send_code(&email, &ClientContext::default()).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(error) => refuse(StatusCode::TOO_MANY_REQUESTS, error).into_response(),
    }
}

async fn verify_code(State(services): State<Shared>, Json(body): Json<Value>) -> Response {
    let email = match address(&body) {
        Ok(email) => email,
        Err(refused) => return refused.into_response(),
    };
    let digits = body["code"].as_str().unwrap_or_default();
    let code = match OtpCode::parse(digits, services.sign_in.code_length()) {
        Ok(code) => code,
        Err(error) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, error).into_response(),
    };
    match services.sign_in.verify_code(&email, &code, &ClientContext::default()).await {
        Ok(signed_in) => Json(json!({
            "access_token": signed_in.access_token,
            "refresh_token": signed_in.refresh_token,
            "user_id": signed_in.user.id.to_string(),
        }))
        .into_response(),
        Err(error) => refuse(StatusCode::BAD_REQUEST, error).into_response(),
    }
}

/// The caller proven by the `Authorization: Bearer` token, or the answer refusing it.
async fn caller(services: &Services, headers: &HeaderMap) -> Result<Principal, Refusal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "a Bearer access token is required"))?;
    services.sessions.authenticate(token).await.map_err(|error| match error {
        SessionError::Failure(_) => refuse(StatusCode::SERVICE_UNAVAILABLE, "try again shortly"),
        refused => refuse(StatusCode::UNAUTHORIZED, refused),
    })
}

async fn me(State(services): State<Shared>, headers: HeaderMap) -> Response {
    match caller(&services, &headers).await {
        Ok(principal) => {
            Json(json!({ "id": principal.user.id.to_string(), "email": principal.user.email.as_str() }))
                .into_response()
        }
        Err(refused) => refused.into_response(),
    }
}

async fn logout(State(services): State<Shared>, headers: HeaderMap) -> Response {
    let principal = match caller(&services, &headers).await {
        Ok(principal) => principal,
        Err(refused) => return refused.into_response(),
    };
    match services.sessions.logout(&principal).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => refuse(StatusCode::SERVICE_UNAVAILABLE, error).into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mail_dir = std::env::var("MAIL_DIR").unwrap_or_else(|_| "var/mail".into());
    let renderer = Arc::new(MailRenderer::new(RendererConfig::new("Example"))?);
    let sender = ComposerConfig {
        from_address: "no-reply@example.com".into(),
        from_name: "Example".into(),
        dkim: None,
    };
    let composer = Arc::new(Composer::new(renderer, sender)?);
    let mailer = Arc::new(FolderMailer::new(mail_dir, composer)?);
    let secrets = Secrets {
        keyed_hasher: KeyedHasher::random(),
        password_hasher: PasswordHasher::new(Argon2Settings::OWASP, 2).map_err(|error| error.to_string())?,
        keyring: Keyring::new(SigningKey::generate()?, vec![]),
        service_credentials: ServiceCredentials::none(),
    };
    let services = Services::new(
        memory_stores(),
        mailer,
        Arc::new(otp_core::events::EventHub::new()),
        Arc::new(SystemClock),
        &secrets,
        &AuthPolicy::default(),
        OAuthProviders::default(),
    )?;
    let app = Router::new()
        .route("/send-code", post(send_code))
        .route("/verify-code", post(verify_code))
        .route("/me", get(me))
        .route("/logout", post(logout))
        .with_state(Arc::new(services));
    let listener =
        tokio::net::TcpListener::bind(std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into()))
            .await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
