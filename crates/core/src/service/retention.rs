//! Deleting sessions and remembered devices that ended long ago.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::error::PortError;
use crate::ports::{Clock, DeviceRepository, SessionRepository};

/// What one [`RecordRetention::purge`] deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Sessions that had ended (logged out, revoked or expired).
    pub sessions: u64,
    /// Remembered devices that had been forgotten.
    pub devices: u64,
}

/// Deletes ended sessions and forgotten devices once the retention has passed since
/// they ended, so the tables hold what is live plus a bounded history instead of a row
/// for every sign-in ever made. Run it periodically; several instances may run it at
/// once (each batch deletes what it finds, and a row deleted twice is deleted once).
///
/// One run deletes at most `batches × batch size` rows of each kind, one statement per
/// batch, so a first run over years of history neither holds one long transaction nor
/// keeps the instance busy; the next run goes on where it stopped.
#[derive(Debug, Clone)]
pub struct RecordRetention {
    sessions: Arc<dyn SessionRepository>,
    devices: Arc<dyn DeviceRepository>,
    clock: Arc<dyn Clock>,
    retention: Duration,
    batch_size: usize,
    batches: usize,
}

impl RecordRetention {
    /// Rows one purge statement deletes at most, by default.
    pub const BATCH_SIZE: usize = 1000;
    /// Statements one run makes at most per kind, by default.
    pub const BATCHES: usize = 100;

    /// Keeps what ended less than `retention` ago (by `clock`), deletes the rest.
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        devices: Arc<dyn DeviceRepository>,
        clock: Arc<dyn Clock>,
        retention: Duration,
    ) -> Self {
        Self { sessions, devices, clock, retention, batch_size: Self::BATCH_SIZE, batches: Self::BATCHES }
    }

    /// At most `batches` statements of at most `batch_size` rows each (both at least
    /// 1) per kind and run.
    #[must_use]
    pub fn with_batches(mut self, batch_size: usize, batches: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self.batches = batches.max(1);
        self
    }

    /// Deletes what ended before now minus the retention, within this run's bound.
    ///
    /// # Errors
    /// [`PortError`] when storage fails; what earlier batches deleted stays deleted.
    pub async fn purge(&self) -> Result<Purged, PortError> {
        let retention = time::Duration::try_from(self.retention).unwrap_or(time::Duration::MAX);
        let Some(before) = self.clock.now().checked_sub(retention) else { return Ok(Purged::default()) };
        let sessions = self.in_batches(Kind::Sessions, before).await?;
        let devices = self.in_batches(Kind::Devices, before).await?;
        Ok(Purged { sessions, devices })
    }

    /// Purges `kind` batch by batch until a batch deletes less than a full one or the
    /// run's bound is reached; the total deleted.
    async fn in_batches(&self, kind: Kind, before: OffsetDateTime) -> Result<u64, PortError> {
        let full = u64::try_from(self.batch_size).unwrap_or(u64::MAX);
        let mut total = 0;
        for _ in 0..self.batches {
            let deleted = match kind {
                Kind::Sessions => self.sessions.purge_ended(before, self.batch_size).await?,
                Kind::Devices => self.devices.purge_forgotten(before, self.batch_size).await?,
            };
            total += deleted;
            if deleted < full {
                break;
            }
        }
        Ok(total)
    }
}

/// What a batch deletes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Sessions,
    Devices,
}
