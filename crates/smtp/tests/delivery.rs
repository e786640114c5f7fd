//! The SMTP mailer against a real SMTP server (aiosmtpd): plain and STARTTLS, MIME
//! structure, connection reuse, recovery from a dropped connection, and how failures map.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use otp_core::domain::{MailKind, MailMessage};
use otp_core::ports::{MailComposer, Mailer};
use otp_core::{EmailAddress, OtpCode, PortError};
use otp_mail::{Composer, ComposerConfig, MailRenderer, RendererConfig};
use otp_smtp::testing::TestSmtpServer;
use otp_smtp::{SmtpConfig, SmtpMailer, TlsMode};
use tokio::net::{TcpListener, TcpStream};

const WAIT: Duration = Duration::from_secs(10);

fn config(port: u16, tls: TlsMode) -> SmtpConfig {
    let mut config = SmtpConfig::new("127.0.0.1", port, "no-reply@acme.test");
    config.tls = tls;
    config.timeout = Duration::from_secs(5);
    config
}

/// The service's composer: built-in templates, or those of `dir` over them.
fn composer(dir: Option<&std::path::Path>) -> Arc<dyn MailComposer> {
    let mut settings = RendererConfig::new("Acme ID");
    settings.template_dir = dir.map(Into::into);
    let renderer = Arc::new(MailRenderer::new(settings).unwrap());
    let sender =
        ComposerConfig { from_address: "no-reply@acme.test".into(), from_name: "Acme ID".into(), dkim: None };
    Arc::new(Composer::new(renderer, sender).unwrap())
}

fn sign_in(to: &str, code: &str) -> MailMessage {
    let kind =
        MailKind::SignInCode { code: OtpCode::parse(code, 6).unwrap(), expires_in: Duration::from_secs(600) };
    MailMessage::new(EmailAddress::parse(to).unwrap(), kind)
}

#[tokio::test]
async fn a_message_arrives_as_valid_multipart_mime_with_the_code_in_both_parts() {
    let server = TestSmtpServer::start().await;
    let mailer = SmtpMailer::new(config(server.port(), TlsMode::None), composer(None)).unwrap();
    mailer.send(&sign_in("ann@example.com", "482913")).await.unwrap();

    let raw = server.wait_for(1, WAIT).await.remove(0);
    let parsed = MessageParser::default().parse(&raw).expect("valid MIME");
    assert_eq!(parsed.subject(), Some("Your Acme ID sign-in code"));
    let from = parsed.from().and_then(|from| from.first()).unwrap();
    assert_eq!(from.address(), Some("no-reply@acme.test"));
    assert_eq!(from.name(), Some("Acme ID"));
    assert_eq!(parsed.to().and_then(|to| to.first()).and_then(|to| to.address()), Some("ann@example.com"));
    let message_id = parsed.message_id().unwrap();
    assert!(message_id.ends_with("@acme.test"), "{message_id}");
    assert!(parsed.date().is_some());
    assert_eq!(parsed.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
    assert_eq!(parsed.content_type().map(|kind| kind.subtype()), Some(Some("alternative")));

    let text = parsed.body_text(0).unwrap();
    let html = parsed.body_html(0).unwrap();
    assert_eq!(parsed.text_body.len(), 1);
    assert_eq!(parsed.html_body.len(), 1);
    for body in [&text, &html] {
        assert!(body.contains("482913"), "{body}");
        assert!(body.contains("10 minutes"), "{body}");
    }
    assert!(html.contains("<html"));
}

#[tokio::test]
async fn an_operator_template_replaces_the_built_in_one_and_the_rest_stay() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sign_in_code.txt"), "Custom {{ product }} code: {{ code }}\n").unwrap();
    let server = TestSmtpServer::start().await;
    let mailer = SmtpMailer::new(config(server.port(), TlsMode::None), composer(Some(dir.path()))).unwrap();
    mailer.send(&sign_in("ann@example.com", "482913")).await.unwrap();

    let raw = server.wait_for(1, WAIT).await.remove(0);
    let parsed = MessageParser::default().parse(&raw).expect("valid MIME");
    assert_eq!(parsed.body_text(0).unwrap().trim_end(), "Custom Acme ID code: 482913");
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("Enter this code to sign in to Acme ID"), "the built-in HTML stays: {html}");
}

#[tokio::test]
async fn starttls_with_a_trusted_authority_delivers() {
    let server = TestSmtpServer::start_with_starttls().await;
    let mut config = config(server.port(), TlsMode::StartTls);
    config.host = "localhost".to_owned();
    config.ca_file = server.ca_file().map(ToOwned::to_owned);
    let mailer = SmtpMailer::new(config, composer(None)).unwrap();
    mailer.send(&sign_in("ann@example.com", "111222")).await.unwrap();
    let raw = server.wait_for(1, WAIT).await.remove(0);
    assert!(String::from_utf8_lossy(&raw).contains("111222"));
}

#[tokio::test]
async fn starttls_refuses_a_certificate_from_an_unknown_authority() {
    let server = TestSmtpServer::start_with_starttls().await;
    let other = tempfile::tempdir().unwrap();
    let stranger = otp_smtp::testing::TestCertificates::generate(other.path());
    let mut config = config(server.port(), TlsMode::StartTls);
    config.ca_file = Some(stranger.ca_file);
    let mailer = SmtpMailer::new(config, composer(None)).unwrap();
    let error = mailer.send(&sign_in("ann@example.com", "111222")).await.unwrap_err();
    assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains("TLS") || format!("{error:?}").contains("Tls"), "{error:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn starttls_is_required_when_asked_for() {
    let server = TestSmtpServer::start().await;
    let mailer = SmtpMailer::new(config(server.port(), TlsMode::StartTls), composer(None)).unwrap();
    let error = mailer.send(&sign_in("ann@example.com", "111222")).await.unwrap_err();
    assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
    assert!(format!("{error:?}").contains("STARTTLS"), "{error:?}");
    assert!(server.messages().is_empty(), "nothing goes out in clear");
}

/// Forwards connections to `target` and counts them.
async fn counting_proxy(target: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (port, count)
}

#[tokio::test]
async fn one_connection_carries_many_messages() {
    let server = TestSmtpServer::start().await;
    let (port, connections) = counting_proxy(server.port()).await;
    let mailer = SmtpMailer::new(config(port, TlsMode::None), composer(None)).unwrap();
    for n in 0..5 {
        mailer.send(&sign_in(&format!("user{n}@example.com"), "000111")).await.unwrap();
    }
    assert_eq!(server.wait_for(5, WAIT).await.len(), 5);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_dropped_connection_is_replaced_without_losing_the_message() {
    let mut server = TestSmtpServer::start().await;
    let mailer = SmtpMailer::new(config(server.port(), TlsMode::None), composer(None)).unwrap();
    mailer.send(&sign_in("first@example.com", "000111")).await.unwrap();
    server.restart().await;
    mailer.send(&sign_in("second@example.com", "000222")).await.unwrap();
    let messages = server.wait_for(2, WAIT).await;
    assert!(String::from_utf8_lossy(&messages[1]).contains("000222"));
}

#[tokio::test]
async fn a_stopped_server_is_unavailable_and_a_restarted_one_receives() {
    let mut server = TestSmtpServer::start().await;
    server.stop().await;
    let mailer = SmtpMailer::new(config(server.port(), TlsMode::None), composer(None)).unwrap();
    let error = mailer.send(&sign_in("ann@example.com", "000333")).await.unwrap_err();
    assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
    server.restart().await;
    mailer.send(&sign_in("ann@example.com", "000333")).await.unwrap();
    assert_eq!(server.wait_for(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn a_permanent_refusal_is_reported_as_failed() {
    let server = TestSmtpServer::start_with_size_limit(200).await;
    let mailer = SmtpMailer::new(config(server.port(), TlsMode::None), composer(None)).unwrap();
    let error = mailer.send(&sign_in("ann@example.com", "000444")).await.unwrap_err();
    assert!(matches!(error, PortError::Failed(_)), "{error:?}");
    assert!(!format!("{error:?}").contains("000444"), "errors never carry the code");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut config = config(port, TlsMode::None);
    config.timeout = Duration::from_millis(300);
    let mailer = SmtpMailer::new(config, composer(None)).unwrap();
    let started = std::time::Instant::now();
    let error = mailer.send(&sign_in("ann@example.com", "000555")).await.unwrap_err();
    assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "bounded by the time-out");
    drop(silent);
}
