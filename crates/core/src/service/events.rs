//! Publishing auth events from the services: one line at the place where the thing
//! happened.

use std::sync::Arc;

use crate::domain::{AuthEvent, AuthEventKind, UserId};
use crate::events::EventHub;
use crate::ports::{Clock, EventPublisher};

/// Publishes [`AuthEvent`]s stamped with the services' clock. A publisher failure is
/// logged and counted, never returned: the change the event describes has already
/// happened, and the caller must not be told it failed.
#[derive(Debug, Clone)]
pub struct Events {
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl Events {
    /// Events published through `publisher` at `clock`'s time.
    pub fn new(publisher: Arc<dyn EventPublisher>, clock: Arc<dyn Clock>) -> Self {
        Self { publisher, clock }
    }

    /// Events that go nowhere but to the subscribers of a hub nobody holds: for tests
    /// and embedders that want none.
    pub fn none(clock: Arc<dyn Clock>) -> Self {
        Self::new(Arc::new(EventHub::new()), clock)
    }

    /// Publishes that `kind` happened to `user_id` now.
    pub async fn emit(&self, user_id: UserId, kind: AuthEventKind) {
        let event = AuthEvent::new(user_id, kind, self.clock.now());
        if let Err(error) = self.publisher.publish(&event).await {
            tracing::error!(%user_id, event_id = %event.id, event_type = event.event_type(), %error, "auth event not published");
            metrics::counter!("otp_events_lost_total", "type" => event.event_type()).increment(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AuthMethod, RevokedBy};
    use crate::ports::SystemClock;

    #[tokio::test]
    async fn emitted_events_reach_subscribers_in_order() {
        let hub = Arc::new(EventHub::new());
        let mut received = hub.subscribe();
        let events = Events::new(hub, Arc::new(SystemClock));
        let user = UserId::generate();
        events.emit(user, AuthEventKind::UserCreated { method: AuthMethod::Otp }).await;
        events.emit(user, AuthEventKind::SessionRevoked { session_id: None, by: RevokedBy::Admin }).await;
        let first = received.recv().await.unwrap();
        let second = received.recv().await.unwrap();
        assert_eq!((first.user_id, first.event_type()), (user, "user.created"));
        assert_eq!(second.event_type(), "session.revoked");
        assert!(first.id < second.id);
    }
}
