//! Auth events: the [`EventHub`] the services publish to, which queues each event for
//! every webhook endpoint in the durable [`WebhookOutbox`](crate::ports::WebhookOutbox)
//! and hands it to in-process subscribers; and the [`WebhookWorker`] that delivers the
//! queued events, signed in the Standard Webhooks scheme, with retries and per-account
//! order.
//!
//! An embedder subscribes in process:
//!
//! ```rust
//! # async fn demo() {
//! use otp_core::events::EventHub;
//! let hub = EventHub::new();
//! let mut events = hub.subscribe();
//! tokio::spawn(async move {
//!     while let Ok(event) = events.recv().await {
//!         println!("{} for {:?}", event.event_type(), event.user_id);
//!     }
//! });
//! # }
//! ```

mod hub;
mod webhooks;

pub use hub::{EventHub, SUBSCRIBER_BUFFER, WebhookQueue};
pub use webhooks::{WebhookRound, WebhookWorker};
