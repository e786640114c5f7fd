//! The real `otp-server` binary as a child process: started on a free port with JSON
//! logs, its log lines collected, its codes read from the mail folder.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub struct Server {
    pub child: Child,
    pub address: String,
    pub mail_dir: PathBuf,
    _dir: tempfile::TempDir,
    pub log: mpsc::Receiver<String>,
    /// The log lines up to and with "listening", parsed.
    pub startup_log: Vec<Value>,
}

impl Server {
    /// The "listening" log line, the last of [`Server::startup_log`].
    #[allow(dead_code)]
    pub fn log_of_listening(&self) -> &Value {
        self.startup_log.last().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_otp-server"));
    command.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// Starts the binary with `PORT=0` and JSON logs; waits for its "listening" line.
pub fn start(extra_env: &[(&str, &str)]) -> Server {
    start_in(tempfile::tempdir().unwrap(), extra_env)
}

/// As [`start`], with `dotenv` written to `.env` in the server's working directory.
pub fn start_with_dotenv(dotenv: &str, extra_env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), dotenv).unwrap();
    start_in(dir, extra_env)
}

fn start_in(dir: tempfile::TempDir, extra_env: &[(&str, &str)]) -> Server {
    let mail_dir = extra_env
        .iter()
        .find(|(key, _)| *key == "MAIL_DIR")
        .map_or_else(|| dir.path().join("var/mail"), |(_, dir)| PathBuf::from(dir));
    let mut child = command(dir.path())
        .env("PORT", "0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = output_lines(child.stdout.take().unwrap());
    let mut startup_log = Vec::new();
    let address = loop {
        let line = log.recv_timeout(Duration::from_secs(30)).expect("the server logs that it listens");
        let entry: Value = serde_json::from_str(&line).unwrap();
        if entry["fields"]["message"] == "listening" {
            let address = entry["fields"]["address"].as_str().unwrap().to_owned();
            startup_log.push(entry);
            break address;
        }
        startup_log.push(entry);
    };
    Server { child, address, mail_dir, _dir: dir, log, startup_log }
}

/// The lines a child writes to `stdout`, read by a thread of their own.
pub fn output_lines(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// `TOKEN_SIGNING_KEY` and `SECRET_KEY` from `otp-server keygen`.
pub fn generated_keys() -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).arg("keygen").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let value =
        |key: &str| text.lines().find_map(|line| line.strip_prefix(&format!("{key}="))).unwrap().to_owned();
    (value("TOKEN_SIGNING_KEY"), value("SECRET_KEY"))
}

/// Stops the server with SIGTERM, checks it exits 0, and returns the log lines not read
/// yet (up to its last).
pub fn stop(server: Server) -> Vec<String> {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    wait_stopped(server)
}

/// Waits for a server already told to stop, checks it exits 0, and returns the log
/// lines not read yet.
pub fn wait_stopped(mut server: Server) -> Vec<String> {
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut rest = Vec::new();
    while let Ok(line) = server.log.recv_timeout(Duration::from_secs(5)) {
        rest.push(line);
    }
    rest
}

/// The code in the newest mail file not read before, waiting for it to arrive: the
/// server queues mail and its delivery worker writes the file a moment after the answer.
pub fn newest_code(mail_dir: &Path) -> String {
    static SEEN: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let newest = loop {
        let mut seen = SEEN.lock().unwrap();
        let mut fresh: Vec<PathBuf> = std::fs::read_dir(mail_dir)
            .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
            .unwrap_or_default();
        fresh.retain(|path| path.extension().is_some_and(|ext| ext == "eml") && !seen.contains(path));
        fresh.sort();
        if let Some(newest) = fresh.last().cloned() {
            seen.extend(fresh);
            break newest;
        }
        assert!(std::time::Instant::now() < deadline, "no new mail in {}", mail_dir.display());
        drop(seen);
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = std::fs::read_to_string(newest).unwrap();
    text.lines()
        .map(str::trim)
        .find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()))
        .expect("a code line")
        .to_owned()
}

/// Whether `number` appears in `text` with no digit right before or after it.
pub fn contains_number(text: &str, number: &str) -> bool {
    text.match_indices(number).any(|(at, _)| {
        let before = text[..at].chars().next_back().is_some_and(|c| c.is_ascii_digit());
        let after = text[at + number.len()..].chars().next().is_some_and(|c| c.is_ascii_digit());
        !before && !after
    })
}

pub async fn post(client: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let response = client.post(url).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The JSON body of a GET of `url` with `token` as Bearer.
pub async fn get_json(client: &reqwest::Client, url: String, token: &str) -> Value {
    client.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}
