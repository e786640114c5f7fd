//! An actix-web service that admits only callers with an otp-auth access token.
//!
//! ```sh
//! OTP_KEYS_URL=http://127.0.0.1:8080/auth/keys \
//!   cargo run -p otp-verify --example actix --features actix
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:3000/me
//! ```
//!
//! Configuration: environment variables, read in `common/mod.rs` (copy it too).

mod common;

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, get, web};
use otp_verify::actix::{VerifiedUser, VerifyTokens};

/// Anyone may ask.
#[get("/health")]
async fn health() -> &'static str {
    "ok"
}

/// The caller's claims; the extractor verifies the token.
#[get("/me")]
async fn me(user: VerifiedUser) -> HttpResponse {
    HttpResponse::Ok().json(&user.0)
}

/// Behind the middleware: only verified callers get here, and only administrators
/// get an answer.
async fn admin_report(user: VerifiedUser) -> HttpResponse {
    if !user.is_admin() {
        return HttpResponse::Forbidden().body("administrators only");
    }
    HttpResponse::Ok().body(format!("report for administrator {}", user.subject))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let verifier = common::verifier_from_env()?;
    let address = common::bind_address();
    let listener = TcpListener::bind(&address)?;
    println!("listening on http://{}", listener.local_addr()?);
    HttpServer::new(move || {
        App::new().app_data(verifier.clone()).service(health).service(me).service(
            web::scope("/admin")
                .wrap(VerifyTokens::new(verifier.clone()))
                .route("/report", web::get().to(admin_report)),
        )
    })
    .listen(listener)?
    .run()
    .await?;
    Ok(())
}
