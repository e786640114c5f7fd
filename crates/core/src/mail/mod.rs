//! Mail delivery through a durable outbox: requests queue sealed messages and return at
//! once; a [`DeliveryWorker`] sends them through the transport, retrying with backoff.
//!
//! Wire a [`QueueingMailer`] as the service's [`Mailer`](crate::ports::Mailer) and run
//! one [`DeliveryWorker`] per process over the same [`MailOutbox`](crate::ports::MailOutbox)
//! with the real transport (SMTP, a folder, ...).

mod delivery;
mod policy;
mod queueing_mailer;

pub(crate) use delivery::run_rounds;
pub use delivery::{DeliveryRound, DeliveryWorker};
pub use policy::DeliveryPolicy;
pub use queueing_mailer::QueueingMailer;
