//! How long one render of a sign-in code mail takes on this machine (subject, plain
//! text and HTML, with a link), the part of a delivery that is this crate's:
//! `cargo run --release -p otp-mail --example render_rate [renders]`.

use std::time::{Duration, Instant};

use otp_core::domain::{MailKind, MailMessage};
use otp_core::{EmailAddress, OtpCode};
use otp_mail::{MailRenderer, RendererConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let renders: u32 = std::env::args().nth(1).map(|text| text.parse()).transpose()?.unwrap_or(200_000);
    let mut config = RendererConfig::new("Acme");
    config.public_url = Some("https://auth.example.com".into());
    let renderer = MailRenderer::new(config)?;
    let code = OtpCode::parse("123456", 6)?;
    let kind = MailKind::SignInCode { code, expires_in: Duration::from_secs(600) };
    let message = MailMessage::new(EmailAddress::parse("someone@example.com")?, kind);
    for _ in 0..1_000 {
        renderer.render(&message)?;
    }
    let started = Instant::now();
    for _ in 0..renders {
        renderer.render(&message)?;
    }
    let each = started.elapsed() / renders.max(1);
    println!("render_micros={:.1} ({renders} renders)", each.as_secs_f64() * 1e6);
    Ok(())
}
