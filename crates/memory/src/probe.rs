//! Readiness of the in-memory stores.

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::ports::Probe;

/// A [`Probe`] for in-memory storage, which is ready whenever the process is.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryProbe;

#[async_trait]
impl Probe for MemoryProbe {
    fn name(&self) -> &str {
        "storage"
    }

    async fn check(&self) -> Result<(), PortError> {
        Ok(())
    }
}
