//! Group commit: concurrent writes of one kind wait in a queue, and each round writes
//! every row waiting in one transaction (one commit, one statement per table) instead of
//! a transaction each (a write of one statement needs no transaction around it: the
//! statement alone is all or nothing). Under load this divides the statements, round trips and commits
//! per write by the size of the rounds; alone, a write goes out at once in a round of
//! one, so nothing waits for company.
//!
//! A round that fails because of one row's content is not the others' failure: its
//! rows are written again, each alone in its own transaction, so one row's conflict (an
//! address taken meanwhile) fails that row alone. A round that finds the database
//! unavailable fails every caller at once.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use futures_util::future::join_all;
use otp_core::PortError;
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::pool::PgPool;

/// Rows a round writes at most.
const MAX_ROUND: usize = 64;
/// Rounds in flight at once: while they run, the next rows gather in the queue.
const ROUNDS_IN_FLIGHT: usize = 2;
/// Writes that may wait for a round; past it, callers wait for room (backpressure).
const QUEUE: usize = 1024;

/// One kind of row written by group commit, and how a round writes several.
pub(crate) trait GroupWrite: Send + Sync + 'static {
    /// What one caller writes.
    type Row: Send + Sync + 'static;
    /// The action named in errors (`"creating a user …"`).
    const ACTION: &'static str;
    /// Whether [`GroupWrite::write`] makes a single statement, all or nothing on its
    /// own: its round then runs without `BEGIN` and `COMMIT`, one round trip instead
    /// of three.
    const ONE_STATEMENT: bool = false;

    /// Writes `rows` inside the round's transaction.
    fn write<'c>(
        connection: &'c mut AsyncPgConnection,
        rows: &'c [Self::Row],
    ) -> impl Future<Output = QueryResult<()>> + Send + 'c;
}

/// A row waiting for its round, and where its outcome goes.
struct Pending<R> {
    row: R,
    done: oneshot::Sender<Result<(), PortError>>,
}

/// The queue of one kind of write ([`GroupWrite`]) on a pool. Its dispatcher task starts
/// with the first write, on the Tokio runtime the queue was made in when there was one
/// (the server's multi-threaded runtime), else on the caller's.
pub(crate) struct GroupCommit<W: GroupWrite> {
    pool: PgPool,
    runtime: Option<Handle>,
    queue: OnceLock<mpsc::Sender<Pending<W::Row>>>,
}

impl<W: GroupWrite> std::fmt::Debug for GroupCommit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("action", &W::ACTION).finish_non_exhaustive()
    }
}

impl<W: GroupWrite> GroupCommit<W> {
    /// A queue writing on `pool`.
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool, runtime: Handle::try_current().ok(), queue: OnceLock::new() }
    }

    /// Writes `row` in the next round; its own outcome once committed (or failed).
    pub(crate) async fn write(&self, row: W::Row) -> Result<(), PortError> {
        let queue = self.queue.get_or_init(|| self.start());
        let (done, outcome) = oneshot::channel();
        match queue.send(Pending { row, done }).await {
            Ok(()) => outcome.await.unwrap_or_else(|_| {
                Err(PortError::Unavailable(format!("{}: the write queue stopped", W::ACTION).into()))
            }),
            // The dispatcher's runtime has ended (a runtime per test, say): write alone.
            Err(mpsc::error::SendError(pending)) => write_alone::<W>(&self.pool, &pending.row).await,
        }
    }

    fn start(&self) -> mpsc::Sender<Pending<W::Row>> {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let dispatcher = dispatch::<W>(self.pool.clone(), receiver);
        match &self.runtime {
            Some(runtime) => drop(runtime.spawn(dispatcher)),
            None => drop(tokio::spawn(dispatcher)),
        }
        sender
    }
}

/// Forms rounds from the queue while at most [`ROUNDS_IN_FLIGHT`] are being written;
/// ends when every sender is gone.
async fn dispatch<W: GroupWrite>(pool: PgPool, mut queue: mpsc::Receiver<Pending<W::Row>>) {
    let rounds = Arc::new(Semaphore::new(ROUNDS_IN_FLIGHT));
    loop {
        let Ok(slot) = Arc::clone(&rounds).acquire_owned().await else { return };
        let Some(first) = queue.recv().await else { return };
        let mut round = Vec::with_capacity(MAX_ROUND.min(queue.len() + 1));
        round.push(first);
        while round.len() < MAX_ROUND
            && let Ok(next) = queue.try_recv()
        {
            round.push(next);
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            write_round::<W>(&pool, round).await;
            drop(slot);
        });
    }
}

/// Writes a round in one transaction (or one statement). When that fails because of what some row holds
/// (a conflict, a refused value), every row is written again alone, all at once, so
/// each caller gets its own row's outcome. When the database is unavailable, every
/// caller gets that at once: retrying row by row would only make the last caller wait
/// one time-out per row.
async fn write_round<W: GroupWrite>(pool: &PgPool, round: Vec<Pending<W::Row>>) {
    let (rows, answers): (Vec<W::Row>, Vec<_>) =
        round.into_iter().map(|pending| (pending.row, pending.done)).unzip();
    let together = write_rows::<W>(pool, &rows).await;
    match together {
        Ok(()) => {
            for answer in answers {
                let _ = answer.send(Ok(()));
            }
        }
        Err(error) if rows.len() == 1 || matches!(error, PortError::Unavailable(_)) => {
            let reason = error.to_string();
            let mut answers = answers.into_iter();
            if let Some(first) = answers.next() {
                let _ = first.send(Err(error));
            }
            for answer in answers {
                let _ = answer.send(Err(PortError::Unavailable(reason.clone().into())));
            }
        }
        Err(_) => {
            let alone = rows.iter().map(|row| write_alone::<W>(pool, row));
            for (outcome, answer) in join_all(alone).await.into_iter().zip(answers) {
                let _ = answer.send(outcome);
            }
        }
    }
}

async fn write_alone<W: GroupWrite>(pool: &PgPool, row: &W::Row) -> Result<(), PortError> {
    write_rows::<W>(pool, std::slice::from_ref(row)).await
}

/// Writes `rows` all or nothing: in a transaction, unless their write is one statement.
async fn write_rows<W: GroupWrite>(pool: &PgPool, rows: &[W::Row]) -> Result<(), PortError> {
    if W::ONE_STATEMENT {
        pool.run(W::ACTION, async |connection| W::write(connection, rows).await).await
    } else {
        pool.transaction(W::ACTION, async |connection| W::write(connection, rows).await).await
    }
}
