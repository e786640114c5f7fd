//! Embeds `otp-core` with the in-memory adapters, without any HTTP server: a whole
//! passwordless sign-in, then a check of the access token.
//!
//! Run with `cargo run -p otp-memory --example embedded`.

use std::error::Error;
use std::sync::Arc;

use otp_core::crypto::{Argon2Settings, KeyedHasher, Keyring, PasswordHasher, SigningKey};
use otp_core::ports::SystemClock;
use otp_core::{AuthPolicy, ClientContext, EmailAddress, OAuthProviders, OtpCode, Secrets, Services};
use otp_memory::{RecordingMailer, memory_stores};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mailer = Arc::new(RecordingMailer::new());
    let secrets = Secrets {
        keyed_hasher: KeyedHasher::random(),
        password_hasher: PasswordHasher::new(Argon2Settings::OWASP, 2).map_err(|error| error.to_string())?,
        keyring: Keyring::new(SigningKey::generate()?, vec![]),
        service_credentials: otp_core::crypto::ServiceCredentials::none(),
    };
    let policy = AuthPolicy::default();
    // Auth events, in process: what happened to whom (ids and method names only).
    let events = Arc::new(otp_core::events::EventHub::new());
    let mut happened = events.subscribe();
    let services = Services::new(
        memory_stores(),
        mailer.clone(),
        events,
        Arc::new(SystemClock),
        &secrets,
        &policy,
        OAuthProviders::default(),
    )?;

    let email = EmailAddress::parse("Ann@Example.com")?;
    let client = ClientContext::default();
    services.sign_in.send_code(&email, &client).await?;

    // A real application mails the code; here we read it back from the recorder.
    let digits = mailer.last_code_for(&email).ok_or("no code was sent")?;
    let code = OtpCode::parse(&digits, services.sign_in.code_length())?;
    let signed_in = services.sign_in.verify_code(&email, &code, &client).await?;
    println!("signed in {} (user {})", signed_in.user.email, signed_in.user.id);

    let principal = services.sessions.authenticate(&signed_in.access_token).await?;
    println!("access token verified for session {}", principal.session_id());

    services.sessions.logout(&principal).await?;
    let refused = services.sessions.authenticate(&signed_in.access_token).await.is_err();
    println!("after logout the token is refused: {refused}");
    while let Ok(event) = happened.try_recv() {
        println!("event {} {} for user {}", event.id, event.event_type(), event.user_id);
    }
    Ok(())
}
