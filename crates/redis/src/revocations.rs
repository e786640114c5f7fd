//! Revocations pushed to every instance through Redis pub/sub.
//!
//! Publishing goes through the pool (a `PUBLISH`). Each feed holds one dedicated
//! subscriber connection (`get_async_pubsub`), outside the pool, which pools cannot
//! lend: a subscribed connection takes no other command. The subscriber sends a `PING`
//! every [`PING_EVERY`], so a connection that went silent (a cut network, a proxy that
//! stopped forwarding) is noticed as fast as one that was closed; then it reconnects.
//!
//! On a Redis Cluster, a `PUBLISH` (not the sharded `SPUBLISH`) reaches every node's
//! subscribers, so a feed subscribes on one node, trying each configured node in turn
//! when it reconnects.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::{self, Client, Value};
use futures_util::StreamExt;
use otp_core::PortError;
use otp_core::ports::{Revocation, RevocationChannel, RevocationFeed, RevocationNotice};
use secrecy::ExposeSecret;
use tokio::sync::mpsc;

use crate::{RedisConfig, RedisPool, RedisSetupError};

/// How often the subscriber checks that its connection still answers.
pub const PING_EVERY: Duration = Duration::from_secs(1);

/// Pause between two attempts to subscribe.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Notices a feed may hold before its listener takes them; past it the subscriber
/// waits (and Redis buffers, up to its output-buffer limit).
const FEED_BUFFER: usize = 1024;

/// A [`RevocationChannel`] on Redis pub/sub: the channel `{prefix}revocations`.
#[derive(Clone)]
pub struct RedisRevocationChannel {
    pool: RedisPool,
    subscriber: Arc<Subscriber>,
}

/// What a feed needs to (re)subscribe.
struct Subscriber {
    /// One client per node it may subscribe on (one in single-node mode).
    clients: Vec<Client>,
    channel: String,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl RedisRevocationChannel {
    /// A channel publishing through `pool` and subscribing as `config` says (the node,
    /// or the cluster's nodes, and the time-outs); its name carries `pool`'s prefix.
    ///
    /// # Errors
    /// [`RedisSetupError`] when a URL does not parse.
    pub fn new(pool: RedisPool, config: &RedisConfig) -> Result<Self, RedisSetupError> {
        let invalid = |error: redis::RedisError| RedisSetupError::InvalidUrl(error.into());
        let urls = if config.is_cluster() {
            config.checked_nodes()?
        } else {
            vec![config.url.expose_secret().to_owned()]
        };
        let clients = urls
            .iter()
            .map(|url| Client::open(url.as_str()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let channel = format!("{}revocations", pool.key_prefix());
        let subscriber = Subscriber {
            clients,
            channel,
            connect_timeout: config.connect_timeout,
            response_timeout: config.response_timeout,
        };
        Ok(Self { pool, subscriber: Arc::new(subscriber) })
    }
}

impl fmt::Debug for RedisRevocationChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRevocationChannel")
            .field("channel", &self.subscriber.channel)
            .field("nodes", &self.subscriber.clients.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RevocationChannel for RedisRevocationChannel {
    async fn publish(&self, revocation: Revocation) -> Result<(), PortError> {
        self.pool.publish("publishing a revocation", &self.subscriber.channel, &revocation.to_string()).await
    }

    fn subscribe(&self) -> Box<dyn RevocationFeed> {
        Box::new(RedisFeed { subscriber: Some(self.subscriber.clone()), notices: None })
    }
}

/// A feed: its subscriber task starts at the first [`RevocationFeed::next`] and stops
/// when the feed is dropped.
struct RedisFeed {
    subscriber: Option<Arc<Subscriber>>,
    notices: Option<mpsc::Receiver<RevocationNotice>>,
}

impl fmt::Debug for RedisFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisFeed").field("started", &self.notices.is_some()).finish()
    }
}

#[async_trait]
impl RevocationFeed for RedisFeed {
    async fn next(&mut self) -> Option<RevocationNotice> {
        if let Some(subscriber) = self.subscriber.take() {
            let (sender, receiver) = mpsc::channel(FEED_BUFFER);
            tokio::spawn(subscriber.run(sender));
            self.notices = Some(receiver);
        }
        self.notices.as_mut()?.recv().await
    }
}

impl Subscriber {
    /// Subscribes, forwards what arrives, and resubscribes after every loss, until the
    /// feed is dropped.
    async fn run(self: Arc<Self>, notices: mpsc::Sender<RevocationNotice>) {
        let mut node = 0;
        let mut told_lost = false;
        loop {
            let client = &self.clients[node % self.clients.len()];
            match tokio::time::timeout(self.connect_timeout.saturating_mul(2), self.open(client)).await {
                Ok(Ok(pubsub)) => {
                    if notices.send(RevocationNotice::Listening).await.is_err() {
                        return;
                    }
                    told_lost = false;
                    if !self.forward(pubsub, &notices).await {
                        return;
                    }
                    tracing::warn!("lost the revocation subscription; reconnecting");
                }
                Ok(Err(error)) => tracing::debug!(%error, "cannot subscribe to revocations"),
                Err(_) => tracing::debug!("subscribing to revocations timed out"),
            }
            node += 1;
            if !told_lost {
                if notices.send(RevocationNotice::Lost).await.is_err() {
                    return;
                }
                told_lost = true;
            }
            tokio::select! {
                () = tokio::time::sleep(RETRY_PAUSE) => {}
                () = notices.closed() => return,
            }
        }
    }

    async fn open(&self, client: &Client) -> redis::RedisResult<redis::aio::PubSub> {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&self.channel).await?;
        Ok(pubsub)
    }

    /// Forwards messages until the connection is lost (`true`) or the feed is dropped
    /// (`false`).
    async fn forward(&self, pubsub: redis::aio::PubSub, notices: &mpsc::Sender<RevocationNotice>) -> bool {
        let (mut sink, mut messages) = pubsub.split();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.tick().await;
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else { return true };
                    let parsed = message.get_payload::<String>().ok().and_then(|text| text.parse().ok());
                    let Some(revocation) = parsed else {
                        tracing::warn!("ignored a message on the revocation channel that is not a revocation");
                        continue;
                    };
                    if notices.send(RevocationNotice::Revoked(revocation)).await.is_err() {
                        return false;
                    }
                }
                _ = ping.tick() => {
                    let answer = tokio::time::timeout(self.response_timeout.max(Duration::from_millis(500)), sink.ping::<Value>()).await;
                    if !matches!(answer, Ok(Ok(_))) {
                        return true;
                    }
                }
                () = notices.closed() => return false,
            }
        }
    }
}
