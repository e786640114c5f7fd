//! Bringing accounts over from another service (the Python services this one replaces):
//! [`plan`] normalises the addresses as sign-up does, reports the records that cannot
//! come over and the addresses that collide after normalisation, and maps each record
//! to a [`User`](crate::domain::User); [`run`] stores the plan through a
//! [`UserRepository`](crate::ports::UserRepository), skipping accounts already there, so
//! a second run imports nothing and an interrupted run resumes where it stopped.
//!
//! Reading the other service's storage is an adapter's business; this module sees
//! [`ForeignAccount`]s only.

mod plan;
mod run;

pub use plan::{ForeignAccount, ImportPlan, PlannedAccount, SkipReason, Skipped, plan};
pub use run::{ImportError, ImportSummary, run};
