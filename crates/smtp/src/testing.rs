//! A real SMTP server for tests: Python's aiosmtpd, started on a free loopback port,
//! storing each message it accepts in a maildir the test reads.
//!
//! The interpreter comes from `OTP_TEST_SMTP_PYTHON`: a Python that has aiosmtpd. In
//! this workspace the nextest setup script `scripts/smtp-tools.sh` installs one and sets
//! the variable; elsewhere, point it at any such interpreter.
#![allow(clippy::expect_used, clippy::panic, missing_docs)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// A certificate authority and a server certificate for `localhost` / `127.0.0.1` it
/// signed, written as PEM files.
#[derive(Debug)]
pub struct TestCertificates {
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestCertificates {
    pub fn generate(dir: &Path) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("server key");
        let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("server params")
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        let files = Self {
            ca_file: dir.join("ca.pem"),
            cert_file: dir.join("server.pem"),
            key_file: dir.join("server.key"),
        };
        std::fs::write(&files.ca_file, ca.pem()).expect("writing the CA");
        std::fs::write(&files.cert_file, server.pem()).expect("writing the certificate");
        std::fs::write(&files.key_file, server_key.serialize_pem()).expect("writing the key");
        files
    }
}

/// A running aiosmtpd. Stopped when dropped.
#[derive(Debug)]
pub struct TestSmtpServer {
    port: u16,
    dir: TempDir,
    starttls: Option<TestCertificates>,
    size_limit: Option<usize>,
    child: Option<Child>,
}

/// The Python interpreter that has aiosmtpd: `OTP_TEST_SMTP_PYTHON`.
pub fn python() -> PathBuf {
    match std::env::var_os("OTP_TEST_SMTP_PYTHON").filter(|path| !path.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "OTP_TEST_SMTP_PYTHON is not set: point it at a Python with aiosmtpd (in this workspace \
             `cargo nextest run` sets it through the setup script scripts/smtp-tools.sh; with plain \
             `cargo test`, run `bash scripts/smtp-tools.sh` and set it to \
             target/tools/smtp-venv/bin/python)"
        ),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

impl TestSmtpServer {
    /// A plain server (no TLS).
    pub async fn start() -> Self {
        Self::launch(false).await
    }

    /// A server that offers (and requires) STARTTLS with a certificate from a fresh
    /// test CA; see [`Self::ca_file`].
    pub async fn start_with_starttls() -> Self {
        Self::launch(true).await
    }

    /// A plain server that refuses (with 552) messages larger than `bytes`.
    pub async fn start_with_size_limit(bytes: usize) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut server =
            Self { port: free_port(), dir, starttls: None, size_limit: Some(bytes), child: None };
        server.run().await;
        server
    }

    async fn launch(starttls: bool) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let starttls = starttls.then(|| TestCertificates::generate(dir.path()));
        let mut server = Self { port: free_port(), dir, starttls, size_limit: None, child: None };
        server.run().await;
        server
    }

    async fn run(&mut self) {
        let mut command = Command::new(python());
        command
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if let Some(bytes) = self.size_limit {
            command.args(["--size", &bytes.to_string()]);
        }
        if let Some(certificates) = &self.starttls {
            command.arg("--tlscert").arg(&certificates.cert_file);
            command.arg("--tlskey").arg(&certificates.key_file);
        }
        let child = command.spawn().expect("starting aiosmtpd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start listening on {}", self.port);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The port it listens on (the same across [`Self::stop`] and [`Self::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA that signed the STARTTLS certificate.
    pub fn ca_file(&self) -> Option<&Path> {
        self.starttls.as_ref().map(|certificates| certificates.ca_file.as_path())
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Kills the server; connections are refused until [`Self::restart`].
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("stopping aiosmtpd");
        }
    }

    /// Starts the server again on the same port and maildir.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.run().await;
    }

    /// Every message received so far, raw, in arrival order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir().join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
            .collect();
        files.sort();
        files.into_iter().filter_map(|(_, path)| std::fs::read(path).ok()).collect()
    }

    /// Waits until at least `count` messages arrived, and returns them all.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} messages within {timeout:?}, got {}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
