#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Failing the test with a message is what this crate is for.
#![allow(clippy::panic)]

mod blocking;
mod pgbouncer;
mod postgres;
mod proxy;
mod redis;
pub mod redis_cluster;

pub use pgbouncer::{PgBouncer, SERVER_CONNECTIONS};
pub use postgres::{
    DEFAULT_DATABASE_URL, TestDatabase, database_url, fresh_database_name, postgres_server_url,
    require_postgres,
};
pub use proxy::TcpProxy;
pub use redis::{
    CLUSTER_NODES_VARIABLE, DEFAULT_REDIS_URL, TestRedis, fresh_key_prefix, live_pool, redis_cluster_nodes,
    redis_server_url,
};

/// The environment variable `name`, or `default` when it is unset or empty.
fn setting_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|value| !value.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// `url` with its password hidden, for messages.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.into()
        }
        _ => url.to_owned(),
    }
}

/// `error` and each cause its message does not already include, joined by `: `.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let text = next.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        cause = next.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(without_password("postgres://ann:hunter2@db:5432/x"), "postgres://ann:***@db:5432/x");
        assert_eq!(without_password("redis://:hunter2@cache:6379"), "redis://:***@cache:6379");
        assert_eq!(without_password("postgres://ann@db/x"), "postgres://ann@db/x");
    }

    #[test]
    fn causes_are_added_once() {
        #[derive(Debug)]
        struct Layer(&'static str, Option<Box<Layer>>);
        impl std::fmt::Display for Layer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Layer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|layer| layer as _)
            }
        }
        let error = Layer(
            "connecting: refused",
            Some(Box::new(Layer("refused", Some(Box::new(Layer("os error 111", None)))))),
        );
        assert_eq!(with_causes(&error), "connecting: refused: os error 111");
    }
}
