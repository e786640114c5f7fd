//! An existing actix-web application that mounts the otp-auth routes under its own
//! scope, beside its own routes, and guards one of them with the auth extractor.
//!
//! ```sh
//! MAIL_DIR=var/mail cargo run -p otp-server --example embedded_actix
//! curl -X POST -H 'Content-Type: application/json' -d '{"email":"ada@example.com"}' \
//!   http://127.0.0.1:3000/identity/auth/send-otp
//! ```
//!
//! The auth API then answers under `/identity` (`/identity/auth/verify-otp`,
//! `/identity/openapi.json`, …), and `/shop/orders` needs its access token. The stores
//! are the in-memory ones here; `Settings` takes `DATABASE_URL`, `REDIS_URL` and the rest
//! exactly as the binary does.

use std::error::Error;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, get, web};
use otp_memory::FolderMailer;
use otp_server::bootstrap::mail::{build_renderer, composer};
use otp_server::http::client_ip::TrustedProxies;
use otp_server::http::extract::Authenticated;
use otp_server::http::metrics::Gauges;
use otp_server::http::{self, AppState};
use otp_server::{Overrides, Settings, build_components};

/// The application's own page.
#[get("/")]
async fn home() -> HttpResponse {
    HttpResponse::Ok().body("the shop's home page")
}

/// The application's own route, for signed-in callers only.
#[get("/orders")]
async fn orders(caller: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "orders": [], "for": caller.0.user.email.as_str() }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let settings = Settings {
        mail_dir: std::env::var("MAIL_DIR").unwrap_or_else(|_| "var/mail".into()).into(),
        ..Settings::default()
    };
    // Mail written straight to the folder (no outbox worker to run beside the app).
    // The service's templates and languages, written as the SMTP mailer would send them.
    let renderer = Arc::new(build_renderer(&settings)?);
    let mailer = Arc::new(FolderMailer::new(&settings.mail_dir, Arc::new(composer(&settings, renderer)?))?);
    let overrides = Overrides { mailer: Some(mailer), ..Overrides::default() };
    let components = build_components(&settings, overrides).await?;
    let state = web::Data::new(
        AppState::new(
            components.services,
            TrustedProxies::parse(&settings.trusted_proxies)?,
            components.probes,
            Gauges::default(),
        )
        .with_mail(components.renderer),
    );
    let listener = TcpListener::bind(std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into()))?;
    println!("listening on http://{}", listener.local_addr()?);
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .service(home)
            .service(web::scope("/shop").service(orders))
            .service(web::scope("/identity").configure(http::app(state.clone())))
    })
    .listen(listener)?
    .run()
    .await?;
    Ok(())
}
