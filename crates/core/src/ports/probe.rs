use async_trait::async_trait;

use crate::error::PortError;

/// A readiness check of one backing service, for `/ready`.
#[async_trait]
pub trait Probe: Send + Sync + std::fmt::Debug {
    /// A short name for the report (`database`, `redis`, `mail`).
    fn name(&self) -> &str;

    /// Succeeds when the service can serve requests now. MUST return promptly (within
    /// the adapter's own time-out) rather than hang.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when it cannot.
    async fn check(&self) -> Result<(), PortError>;
}
