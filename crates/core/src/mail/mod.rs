//! Mail delivery through a durable outbox: requests queue sealed messages and return at
//! once; [`DeliveryWorker`]s send them through the transport, retrying with backoff.
//!
//! Wire a [`QueueingMailer`] as the service's [`Mailer`](crate::ports::Mailer) and run
//! `MAIL_WORKERS` delivery loops of one [`DeliveryWorker`] per process over the same
//! [`MailOutbox`](crate::ports::MailOutbox) with the real transport (SMTP, a folder,
//! ...). A [`DeliveryMeter`] shared by both tells how long a new message would wait.

mod delivery;
mod handoff;
mod meter;
mod policy;
mod queueing_mailer;
mod rounds;
mod signal;

pub use delivery::{DeliveryRound, DeliveryWorker};
pub(crate) use handoff::HandedMessage;
pub use handoff::MailHandoff;
pub use meter::DeliveryMeter;
pub use policy::DeliveryPolicy;
pub use queueing_mailer::QueueingMailer;
pub(crate) use rounds::run_rounds;
pub use signal::OutboxSignal;
