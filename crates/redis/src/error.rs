//! Translation of pool and Redis failures into [`PortError`], with what was being done.

use std::time::Duration;

use deadpool::managed::PoolError;
use deadpool_redis::redis::{ErrorKind, RedisError, ServerErrorKind};
use otp_core::{BoxError, PortError};

/// A failure and the operation it interrupted ("verifying a code: connection refused").
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub(crate) struct RedisOperationError {
    context: &'static str,
    #[source]
    source: BoxError,
}

/// A whole operation outlasted its deadline.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {0:?}")]
pub(crate) struct DeadlinePassed(Duration);

/// No replica acknowledged a decision in time, so a failover could still undo it.
#[derive(Debug, thiserror::Error)]
#[error("no replica acknowledged the write within {0:?}")]
pub(crate) struct NotReplicated(Duration);

/// A code subject that is not the domain's hex digest (it might be an address).
#[derive(Debug, thiserror::Error)]
#[error("code subject is not a hex digest; refusing to put it in a key")]
pub(crate) struct InvalidSubject;

/// A script answered with a shape it never produces.
#[derive(Debug, thiserror::Error)]
#[error("unexpected reply from Redis: {0}")]
pub(crate) struct UnexpectedReply(String);

fn with_context(context: &'static str, source: impl Into<BoxError>) -> RedisOperationError {
    RedisOperationError { context, source: source.into() }
}

/// Pool time-outs and closure make Redis unavailable; a failed connection attempt is
/// judged like any Redis error.
pub(crate) fn from_pool(context: &'static str, error: PoolError<RedisError>) -> PortError {
    match error {
        PoolError::Backend(error) => from_redis(context, error),
        PoolError::Timeout(_) | PoolError::Closed => PortError::unavailable(with_context(context, error)),
        PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            PortError::failed(with_context(context, error))
        }
    }
}

/// Connection, I/O and time-out failures, a server that cannot serve for now (loading,
/// read-only replica, busy script, cluster down, a slot still moving after the client's
/// redirections), and a cluster of which no node can be reached make Redis unavailable;
/// anything else (script errors, wrong types, refused credentials, keys in different
/// slots) is a failure.
pub(crate) fn from_redis(context: &'static str, error: RedisError) -> PortError {
    if is_unavailable(&error) {
        PortError::unavailable(with_context(context, error))
    } else {
        PortError::failed(with_context(context, error))
    }
}

/// A reply the adapter cannot read.
pub(crate) fn unexpected(context: &'static str, reply: impl Into<String>) -> PortError {
    PortError::failed(with_context(context, unexpected_reply(reply)))
}

/// The error for a reply the adapter cannot read, to wrap as the caller sees fit.
pub(crate) fn unexpected_reply(reply: impl Into<String>) -> UnexpectedReply {
    UnexpectedReply(reply.into())
}

/// A code subject that must not reach Redis.
pub(crate) fn invalid_subject(context: &'static str) -> PortError {
    PortError::failed(with_context(context, InvalidSubject))
}

/// An operation that outlasted `deadline`: Redis is unavailable.
pub(crate) fn deadline_passed(context: &'static str, deadline: Duration) -> PortError {
    PortError::unavailable(with_context(context, DeadlinePassed(deadline)))
}

/// A decision no replica acknowledged in time: Redis is unavailable for it.
pub(crate) fn not_replicated(context: &'static str, waited: Duration) -> PortError {
    PortError::unavailable(with_context(context, NotReplicated(waited)))
}

/// Any failure, reported as [`PortError::Unavailable`] (for the readiness probe).
pub(crate) fn unavailable(context: &'static str, source: impl Into<BoxError>) -> PortError {
    PortError::unavailable(with_context(context, source))
}

fn is_unavailable(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_refusal()
        || error.is_connection_dropped()
        || error.is_timeout()
        || matches!(
            error.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                        | ServerErrorKind::Moved
                        | ServerErrorKind::Ask
                )
        )
        || error.code() == Some("BUSY")
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn connection_failures_are_unavailable_and_keep_their_context() {
        let refused = RedisError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        let error = from_redis("verifying a code", refused);
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains("verifying a code"), "{error}");

        let timed_out = RedisError::from(io::Error::from(io::ErrorKind::TimedOut));
        assert!(matches!(from_redis("issuing a code", timed_out), PortError::Unavailable(_)));

        let reset = RedisError::from(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(matches!(from_redis("issuing a code", reset), PortError::Unavailable(_)));
    }

    #[test]
    fn pool_time_outs_are_unavailable() {
        let error =
            from_pool("counting a rate-limit hit", PoolError::Timeout(deadpool::managed::TimeoutType::Wait));
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains("counting a rate-limit hit"), "{error}");
    }

    #[test]
    fn a_cluster_in_transition_is_unavailable_but_keys_in_two_slots_are_a_bug() {
        for kind in [ServerErrorKind::ClusterDown, ServerErrorKind::TryAgain, ServerErrorKind::Moved] {
            let error = RedisError::from((ErrorKind::Server(kind), "in transition"));
            assert!(matches!(from_redis("verifying a code", error), PortError::Unavailable(_)), "{kind:?}");
        }
        let no_node = RedisError::from((ErrorKind::ClusterConnectionNotFound, "no connections found"));
        assert!(matches!(from_redis("issuing a code", no_node), PortError::Unavailable(_)));
        let cross_slot = RedisError::from((ErrorKind::Server(ServerErrorKind::CrossSlot), "CROSSSLOT"));
        assert!(matches!(from_redis("issuing a code", cross_slot), PortError::Failed(_)));
        let unreplicated = not_replicated("verifying a code", Duration::from_millis(250));
        assert!(matches!(unreplicated, PortError::Unavailable(_)), "{unreplicated:?}");
        assert!(unreplicated.to_string().contains("replica"), "{unreplicated}");
    }

    #[test]
    fn other_errors_are_failures() {
        let wrong_type = RedisError::from((ErrorKind::UnexpectedReturnType, "not a list"));
        assert!(matches!(from_redis("verifying a code", wrong_type), PortError::Failed(_)));
        let reply = unexpected("verifying a code", "[9]");
        assert!(matches!(reply, PortError::Failed(_)));
        assert!(reply.to_string().contains("[9]"), "{reply}");
    }
}
