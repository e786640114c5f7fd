//! An axum service that admits only callers with an otp-auth access token.
//!
//! ```sh
//! OTP_KEYS_URL=http://127.0.0.1:8080/auth/keys \
//!   cargo run -p otp-verify --example axum --features axum
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:3000/me
//! ```
//!
//! Configuration: environment variables, read in `common/mod.rs` (copy it too).

mod common;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use otp_verify::Claims;
use otp_verify::axum::{VerifiedUser, VerifyTokensLayer};

/// Anyone may ask; a signed-in caller is greeted by id.
async fn greeting(user: Option<VerifiedUser>) -> String {
    user.map_or_else(|| "hello, stranger".to_owned(), |user| format!("hello, {}", user.subject))
}

/// The caller's claims.
async fn me(user: VerifiedUser) -> Json<Claims> {
    Json(user.0)
}

/// Only administrators get an answer.
async fn admin_report(user: VerifiedUser) -> Result<String, StatusCode> {
    if !user.is_admin() {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(format!("report for administrator {}", user.subject))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let verifier = common::verifier_from_env()?;
    let app = Router::new()
        // Every route above the layer requires a valid token.
        .route("/me", get(me))
        .route("/admin/report", get(admin_report))
        .layer(VerifyTokensLayer::new(verifier.clone()))
        // Routes below it verify only when the handler asks.
        .route("/", get(greeting))
        .route("/health", get(|| async { "ok" }))
        .layer(Extension(verifier));
    let address = common::bind_address();
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
