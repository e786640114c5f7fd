//! Response bodies of the health and readiness probes.

use serde::Serialize;
use utoipa::ToSchema;

/// The process is up.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Whether every backing service answers.
#[derive(Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// `ready` or `unavailable`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Each check (`database`, `redis`, `storage`, `mail`) and its result, `ok` or
    /// `unavailable`.
    #[schema(example = json!({"mail": "ok", "storage": "ok"}))]
    pub checks: std::collections::BTreeMap<String, &'static str>,
}
