//! A confirmation for people, the body of answers that carry nothing else.

use serde::Serialize;
use utoipa::ToSchema;

/// A confirmation for people.
#[derive(Serialize, ToSchema)]
pub(crate) struct Message {
    /// What happened.
    pub message: &'static str,
}
