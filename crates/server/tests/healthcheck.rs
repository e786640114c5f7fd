//! `otp-server healthcheck`, the container image's health check, run as a process
//! against the real binary: it exits 0 only while the server it is configured for
//! answers, and 1 with a reason otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `otp-server serve` and the port it listens on.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_otp-server"));
    command.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// Starts the server on a free port with `extra_env`; waits for its "listening" line.
fn start(extra_env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(dir.path())
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server logs that it listens").unwrap();
        let entry: Value = serde_json::from_str(&line).unwrap();
        if entry["fields"]["message"] == "listening" {
            break entry["fields"]["address"].as_str().unwrap().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    let port = address.rsplit(':').next().unwrap().parse().unwrap();
    Server { child, port, _dir: dir }
}

/// Runs `otp-server healthcheck ARGS` configured with `HOST=host` and `PORT=port`.
fn healthcheck(host: &str, port: u16, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    command(dir.path())
        .arg("healthcheck")
        .args(args)
        .env("HOST", host)
        .env("PORT", port.to_string())
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn it_passes_while_the_server_answers_and_fails_once_it_has_stopped() {
    let mut server = start(&[("HOST", "0.0.0.0")]);
    let port = server.port;

    let output = healthcheck("0.0.0.0", port, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("/health answered 200"));
    let output = healthcheck("0.0.0.0", port, &["/ready"]);
    assert_eq!(output.status.code(), Some(0), "the embedded default is ready: {}", stderr(&output));

    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(server.child.wait().unwrap().success());
    let output = healthcheck("0.0.0.0", port, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains(&format!("connecting to 127.0.0.1:{port}")), "{}", stderr(&output));
}

#[test]
fn ready_fails_while_the_database_is_unreachable_though_health_passes() {
    // Nothing listens on port 1; pools connect lazily, so the server starts anyway.
    let server = start(&[
        ("HOST", "127.0.0.1"),
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/otp"),
        ("RUN_MIGRATIONS", "false"),
        ("DATABASE_TIMEOUT_SECONDS", "1"),
    ]);
    let output = healthcheck("127.0.0.1", server.port, &["/health"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let started = Instant::now();
    let output = healthcheck("127.0.0.1", server.port, &["/ready"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("/ready with status 503"), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn a_server_that_never_answers_fails_the_check_within_its_time_limit() {
    // The kernel accepts the connection into the backlog; nobody ever reads or writes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let started = Instant::now();
    let output = healthcheck("127.0.0.1", port, &[]);
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("asking 127.0.0.1"), "{}", stderr(&output));
    assert!(elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(6), "took {elapsed:?}");
    drop(listener);
}

#[test]
fn misuse_is_reported_rather_than_probed() {
    let output = healthcheck("127.0.0.1", 8080, &["/health", "/ready"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("at most one PATH"), "{}", stderr(&output));

    let output = healthcheck("127.0.0.1", 8080, &["health"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("must start with /"), "{}", stderr(&output));

    let output = healthcheck("127.0.0.1", 0, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("PORT is 0"), "{}", stderr(&output));

    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).args(["healthcheck"]).env("PORT", "not-a-port").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("configuration"), "{}", stderr(&output));
}
