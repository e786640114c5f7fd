//! `otp-server healthcheck [PATH]`: asks the running server for `/health` (or `PATH`)
//! over plain HTTP/1.1, so a container image without curl can have a health check.
//!
//! It reads `HOST` and `PORT` the way the server does and connects to the address the
//! server listens on (loopback when it listens on every interface). Healthy means a 2xx
//! answer within [`TIMEOUT`]; anything else is a failure with a one-line reason.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The longest the whole check may take: connecting, sending and reading the status line.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The path asked for when none is given.
pub const DEFAULT_PATH: &str = "/health";

/// The longest status line accepted before the answer counts as malformed.
const MAX_STATUS_LINE: usize = 1024;

/// Why the server did not count as healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthCheckError {
    /// The path is not an absolute path of printable ASCII.
    #[error("the path must start with / and hold no spaces or control characters: {0:?}")]
    InvalidPath(String),
    /// `PORT` is 0: the server picked a port at random, so there is nothing to ask.
    #[error("PORT is 0: the server's port is not known")]
    UnknownPort,
    /// `HOST` names no address.
    #[error("HOST {host:?} names no address: {source}")]
    Resolve {
        /// The configured host.
        host: String,
        /// Why it did not resolve.
        source: io::Error,
    },
    /// No connection within the time limit.
    #[error("connecting to {address}: {source}")]
    Connect {
        /// Where the server was expected.
        address: SocketAddr,
        /// The connection failure.
        source: io::Error,
    },
    /// The connection broke or timed out during the exchange.
    #[error("asking {address} for {path}: {source}")]
    Exchange {
        /// The server's address.
        address: SocketAddr,
        /// The path asked for.
        path: String,
        /// The failure.
        source: io::Error,
    },
    /// The answer does not start with an HTTP status line.
    #[error("{address} answered {path} with something other than HTTP")]
    Malformed {
        /// The server's address.
        address: SocketAddr,
        /// The path asked for.
        path: String,
    },
    /// The server answered with a status outside 2xx.
    #[error("{address} answered {path} with status {status}")]
    Unhealthy {
        /// The server's address.
        address: SocketAddr,
        /// The path asked for.
        path: String,
        /// The HTTP status.
        status: u16,
    },
}

/// Checks that `path` is safe to put in a request line.
///
/// # Errors
/// [`HealthCheckError::InvalidPath`] otherwise.
pub fn validate_path(path: &str) -> Result<(), HealthCheckError> {
    let printable = path.bytes().all(|byte| byte.is_ascii_graphic());
    if path.starts_with('/') && printable && path.len() <= 256 {
        Ok(())
    } else {
        Err(HealthCheckError::InvalidPath(path.chars().take(64).collect()))
    }
}

/// The address to ask, for a server configured with `host` and `port`: loopback of the
/// same family when it listens on every interface, else the host itself.
///
/// # Errors
/// [`HealthCheckError::UnknownPort`] for port 0, [`HealthCheckError::Resolve`] when the
/// host names no address.
pub fn target(host: &str, port: u16) -> Result<SocketAddr, HealthCheckError> {
    if port == 0 {
        return Err(HealthCheckError::UnknownPort);
    }
    let bare = host.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        let ip = match ip {
            IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            other => other,
        };
        return Ok(SocketAddr::new(ip, port));
    }
    let resolve_error = |source| HealthCheckError::Resolve { host: host.to_owned(), source };
    (bare, port)
        .to_socket_addrs()
        .map_err(resolve_error)?
        .next()
        .ok_or_else(|| resolve_error(io::Error::new(io::ErrorKind::NotFound, "no address")))
}

/// Asks `address` for `path` and succeeds on a 2xx status, all within `timeout`.
///
/// # Errors
/// [`HealthCheckError`] saying what went wrong.
pub fn check(address: SocketAddr, path: &str, timeout: Duration) -> Result<u16, HealthCheckError> {
    validate_path(path)?;
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|source| HealthCheckError::Connect { address, source })?;
    let exchange_error = |source| HealthCheckError::Exchange { address, path: path.to_owned(), source };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: otp-server-healthcheck\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.set_write_timeout(Some(remaining(deadline))).map_err(exchange_error)?;
    stream.write_all(request.as_bytes()).map_err(exchange_error)?;
    let line = read_status_line(&mut stream, deadline).map_err(exchange_error)?;
    let status =
        parse_status(&line).ok_or_else(|| HealthCheckError::Malformed { address, path: path.to_owned() })?;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(HealthCheckError::Unhealthy { address, path: path.to_owned(), status })
    }
}

/// Time left until `deadline`, at least a millisecond (a zero timeout means "none").
fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
}

/// Reads until the first line break, at most [`MAX_STATUS_LINE`] bytes, by `deadline`.
fn read_status_line(stream: &mut TcpStream, deadline: Instant) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let mut buffer = [0_u8; 256];
    while !line.contains(&b'\n') && line.len() < MAX_STATUS_LINE {
        if Instant::now() >= deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"));
        }
        stream.set_read_timeout(Some(remaining(deadline)))?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => line.extend_from_slice(&buffer[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(line)
}

/// The status code of an HTTP/1.x status line (`HTTP/1.1 200 OK`), if `bytes` starts
/// with one.
fn parse_status(bytes: &[u8]) -> Option<u16> {
    let end = bytes.iter().position(|&byte| byte == b'\n')?;
    let line = std::str::from_utf8(&bytes[..end]).ok()?.trim_end_matches('\r');
    let mut parts = line.splitn(3, ' ');
    let version = parts.next()?;
    let code = parts.next()?;
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") || code.len() != 3 {
        return None;
    }
    code.parse().ok().filter(|status| (100..600).contains(status))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn every_interface_is_asked_on_loopback() {
        assert_eq!(target("0.0.0.0", 8080).unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(target("[::]", 8080).unwrap(), "[::1]:8080".parse().unwrap());
        assert_eq!(target("::", 9000).unwrap(), "[::1]:9000".parse().unwrap());
        assert_eq!(target("10.1.2.3", 80).unwrap(), "10.1.2.3:80".parse().unwrap());
        assert!(target("localhost", 8080).unwrap().ip().is_loopback());
        assert!(matches!(target("127.0.0.1", 0), Err(HealthCheckError::UnknownPort)));
    }

    #[test]
    fn only_http_status_lines_are_understood() {
        assert_eq!(parse_status(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n"), Some(200));
        assert_eq!(parse_status(b"HTTP/1.0 503 Service Unavailable\n"), Some(503));
        assert_eq!(parse_status(b"HTTP/1.1 204\r\n"), Some(204));
        assert_eq!(parse_status(b"HTTP/1.1 200 OK"), None, "no line break yet");
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH_9.2\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 2000 OK\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 099 Low\r\n"), None);
        assert_eq!(parse_status(b"HTTP/2 200\r\n"), None);
    }

    #[test]
    fn paths_that_would_break_the_request_line_are_refused() {
        validate_path("/health").unwrap();
        validate_path("/ready?verbose=1").unwrap();
        for bad in ["health", "/a b", "/a\r\nX-Injected: 1", "", "/é"] {
            assert!(matches!(validate_path(bad), Err(HealthCheckError::InvalidPath(_))), "{bad:?}");
        }
    }

    /// A one-shot server that answers `reply` to the first connection and returns the
    /// request it received.
    fn answer_once(reply: &'static [u8]) -> (SocketAddr, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buffer = [0_u8; 512];
            while !request.ends_with(b"\r\n\r\n") {
                let read = stream.read(&mut buffer).unwrap();
                assert!(read > 0, "the client closed before finishing its request");
                request.extend_from_slice(&buffer[..read]);
            }
            stream.write_all(reply).unwrap();
            String::from_utf8(request).unwrap()
        });
        (address, handle)
    }

    #[test]
    fn a_2xx_answer_is_healthy_and_the_request_is_plain_http() {
        let (address, server) = answer_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(check(address, "/health", TIMEOUT).unwrap(), 200);
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /health HTTP/1.1\r\n"), "{request}");
        assert!(request.contains(&format!("\r\nHost: {address}\r\n")), "{request}");
    }

    #[test]
    fn other_statuses_and_non_http_answers_are_unhealthy() {
        let (address, _server) = answer_once(b"HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert!(matches!(
            check(address, "/ready", TIMEOUT),
            Err(HealthCheckError::Unhealthy { status: 503, .. })
        ));
        let (address, _server) = answer_once(b"220 smtp.example ESMTP ready\r\n");
        assert!(matches!(check(address, "/health", TIMEOUT), Err(HealthCheckError::Malformed { .. })));
    }

    #[test]
    fn a_silent_server_fails_the_check_within_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let started = Instant::now();
        let error = check(address, "/health", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(error, HealthCheckError::Exchange { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        drop(listener);
    }

    #[test]
    fn nothing_listening_is_a_connection_failure() {
        let address = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        assert!(matches!(check(address, "/health", TIMEOUT), Err(HealthCheckError::Connect { .. })));
    }
}
