//! PgBouncer in transaction pooling mode in front of the test PostgreSQL server.
//!
//! Each [`PgBouncer`] is Debian's `pgbouncer` (scripts/pgbouncer-tools.sh installs it;
//! the nextest setup script `pgbouncer-tools` runs that) on a free port, with a generated
//! configuration: every database of `TEST_DATABASE_URL`'s server, `auth_type = trust`,
//! `pool_mode = transaction`, and few server connections so that consecutive
//! transactions of one client land on different ones. Create and migrate databases
//! directly (migrations take a session-level advisory lock); only pools go through it.

// A helper that cannot start PgBouncer fails the test that asked for it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::postgres::postgres_server_url as server_url;

/// Server connections PgBouncer keeps per database: fewer than the clients' pool, so
/// transactions of one client are served by several of them in turn.
pub const SERVER_CONNECTIONS: usize = 2;

/// A running PgBouncer, stopped when dropped.
#[derive(Debug)]
pub struct PgBouncer {
    port: u16,
    dir: PathBuf,
    process: Child,
}

impl PgBouncer {
    /// Starts one in transaction pooling mode in front of `TEST_DATABASE_URL`'s server.
    pub fn start() -> Arc<Self> {
        let server = Url::parse(&server_url()).expect("TEST_DATABASE_URL is a URL");
        let (host, server_port) = (server.host_str().unwrap_or("127.0.0.1"), server.port().unwrap_or(5432));
        let user = if server.username().is_empty() { "postgres" } else { server.username() };
        let dir = std::env::temp_dir().join(format!("otp-pgbouncer-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let config = format!(
            "[databases]\n\
             * = host={host} port={server_port}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {auth}\n\
             pool_mode = transaction\n\
             default_pool_size = {SERVER_CONNECTIONS}\n\
             max_client_conn = 200\n\
             admin_users = {user}\n",
            auth = dir.join("userlist.txt").display(),
        );
        fs::write(dir.join("pgbouncer.ini"), config).unwrap();
        fs::write(dir.join("userlist.txt"), format!("\"{user}\" \"\"\n")).unwrap();
        make_readable(&dir);
        let log = fs::File::create(dir.join("pgbouncer.log")).unwrap();
        let mut command = Command::new(binary());
        // PgBouncer refuses to run as root; it drops to another user itself.
        if running_as_root() {
            command.arg("-u").arg("postgres");
        }
        let process = command
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("starting pgbouncer: {error}; {HOW_TO_INSTALL}"));
        let bouncer = Arc::new(Self { port, dir, process });
        bouncer.wait_until_listening();
        bouncer
    }

    /// `database` on the server, through PgBouncer.
    pub fn url_of(&self, database: &str) -> String {
        let mut url = Url::parse(&server_url()).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.path_segments_mut().unwrap().clear().push(database);
        url.into()
    }

    /// What PgBouncer logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }

    fn wait_until_listening(&self) {
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "pgbouncer did not listen on {address}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

const HOW_TO_INSTALL: &str =
    "these tests need Debian's pgbouncer: `cargo nextest run` installs it (scripts/pgbouncer-tools.sh)";

fn binary() -> PathBuf {
    ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("pgbouncer"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .map(|status| {
            status.lines().any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// The user PgBouncer drops to must read its files.
fn make_readable(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(dir).unwrap() {
        fs::set_permissions(entry.unwrap().path(), fs::Permissions::from_mode(0o644)).unwrap();
    }
}
