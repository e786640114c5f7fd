//! Rounds: concurrent calls of one kind wait in a queue, and each round serves every
//! call waiting with one statement per table instead of a statement each. For writes
//! this is group commit: a round is one transaction (or one statement, all or nothing
//! on its own) and one commit. For reads, one look-up of many keys. Under load this
//! divides the statements, round trips and commits per call by the size of the rounds;
//! alone, a call goes out at once in a round of one, so nothing waits for company.
//!
//! A round that fails because of one call's content is not the others' failure: its
//! calls are served again, each alone, so one row's conflict (an address taken
//! meanwhile) fails that call alone. A round that finds the database unavailable fails
//! every caller at once.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use futures_util::future::join_all;
use otp_core::PortError;
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::pool::PgPool;

/// Calls a round serves at most.
const MAX_ROUND: usize = 64;
/// Rounds in flight at once: while they run, the next calls gather in the queue.
const ROUNDS_IN_FLIGHT: usize = 2;
/// Calls that may wait for a round; past it, callers wait for room (backpressure).
const QUEUE: usize = 1024;

/// One kind of call served in rounds, and how a round serves several.
pub(crate) trait RoundWork: Send + Sync + 'static {
    /// What one caller brings (a row to write, a key to look up).
    type Call: Send + Sync + 'static;
    /// What one caller gets back.
    type Answer: Send + 'static;
    /// The action named in errors (`"creating a user …"`).
    const ACTION: &'static str;
    /// Whether [`RoundWork::serve`] makes a single statement, all or nothing on its
    /// own: its round then runs without `BEGIN` and `COMMIT`, one round trip instead
    /// of three.
    const ONE_STATEMENT: bool = false;
    /// Whether a failed round may have failed because of one call's content, so that
    /// serving each call alone gives the others their answers. `false` when a round
    /// can only fail as a whole (a look-up: what it finds is checked by each caller),
    /// so a failure (a statement time-out, say) is not repeated once per call.
    const ALONE_AFTER_FAILURE: bool = true;

    /// Serves `calls` (inside the round's transaction unless [`Self::ONE_STATEMENT`]):
    /// one answer per call, in their order.
    fn serve<'c>(
        connection: &'c mut AsyncPgConnection,
        calls: &'c [Self::Call],
    ) -> impl Future<Output = QueryResult<Vec<Self::Answer>>> + Send + 'c;
}

/// A call waiting for its round, and where its answer goes.
struct Pending<W: RoundWork> {
    call: W::Call,
    done: oneshot::Sender<Result<W::Answer, PortError>>,
}

/// The queue of one kind of call ([`RoundWork`]) on a pool. Its dispatcher task starts
/// with the first call, on the Tokio runtime the queue was made in when there was one
/// (the server's multi-threaded runtime), else on the caller's.
pub(crate) struct Rounds<W: RoundWork> {
    pool: PgPool,
    runtime: Option<Handle>,
    queue: OnceLock<mpsc::Sender<Pending<W>>>,
}

impl<W: RoundWork> std::fmt::Debug for Rounds<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rounds").field("action", &W::ACTION).finish_non_exhaustive()
    }
}

impl<W: RoundWork> Rounds<W> {
    /// A queue served on `pool`.
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool, runtime: Handle::try_current().ok(), queue: OnceLock::new() }
    }

    /// Serves `call` in the next round; its own answer once the round is done (for a
    /// write: committed, or failed).
    pub(crate) async fn call(&self, call: W::Call) -> Result<W::Answer, PortError> {
        let queue = self.queue.get_or_init(|| self.start());
        let (done, answer) = oneshot::channel();
        match queue.send(Pending { call, done }).await {
            Ok(()) => answer.await.unwrap_or_else(|_| {
                Err(PortError::Unavailable(format!("{}: the round queue stopped", W::ACTION).into()))
            }),
            // The dispatcher's runtime has ended (a runtime per test, say): serve alone.
            Err(mpsc::error::SendError(pending)) => serve_alone::<W>(&self.pool, &pending.call).await,
        }
    }

    fn start(&self) -> mpsc::Sender<Pending<W>> {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let dispatcher = dispatch::<W>(self.pool.clone(), receiver);
        match &self.runtime {
            Some(runtime) => drop(runtime.spawn(dispatcher)),
            None => drop(tokio::spawn(dispatcher)),
        }
        sender
    }
}

/// Forms rounds from the queue while at most [`ROUNDS_IN_FLIGHT`] are being served;
/// ends when every sender is gone.
async fn dispatch<W: RoundWork>(pool: PgPool, mut queue: mpsc::Receiver<Pending<W>>) {
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
            serve_round::<W>(&pool, round).await;
            drop(slot);
        });
    }
}

/// Serves a round at once. When that fails because of what some call holds (a
/// conflict, a refused value), every call is served again alone, all at once, so each
/// caller gets its own outcome ([`RoundWork::ALONE_AFTER_FAILURE`]). When the database
/// is unavailable, or the round can only fail as a whole, every caller gets the failure
/// at once: retrying call by call would only make the last caller wait one time-out per
/// call.
async fn serve_round<W: RoundWork>(pool: &PgPool, round: Vec<Pending<W>>) {
    let (calls, answers): (Vec<W::Call>, Vec<_>) =
        round.into_iter().map(|pending| (pending.call, pending.done)).unzip();
    match serve::<W>(pool, &calls).await {
        Ok(outcomes) => {
            for (outcome, answer) in outcomes.into_iter().zip(answers) {
                let _ = answer.send(Ok(outcome));
            }
        }
        Err(error)
            if calls.len() == 1 || !W::ALONE_AFTER_FAILURE || matches!(error, PortError::Unavailable(_)) =>
        {
            let mut answers = answers.into_iter();
            let first = answers.next();
            for answer in answers {
                let _ = answer.send(Err(same_failure(&error)));
            }
            if let Some(first) = first {
                let _ = first.send(Err(error));
            }
        }
        Err(_) => {
            let alone = calls.iter().map(|call| serve_alone::<W>(pool, call));
            for (outcome, answer) in join_all(alone).await.into_iter().zip(answers) {
                let _ = answer.send(outcome);
            }
        }
    }
}

/// A failure of the same kind as `error`, with its message, for another caller of the
/// failed round: every caller then answers alike (a 500 for one and a 503 for the
/// others before).
fn same_failure(error: &PortError) -> PortError {
    match error {
        PortError::EmailTaken => PortError::EmailTaken,
        PortError::IdentityTaken => PortError::IdentityTaken,
        PortError::AccountGone => PortError::AccountGone,
        PortError::Unavailable(cause) => PortError::unavailable(cause.to_string()),
        PortError::Failed(cause) => PortError::failed(cause.to_string()),
    }
}

async fn serve_alone<W: RoundWork>(pool: &PgPool, call: &W::Call) -> Result<W::Answer, PortError> {
    let mut answers = serve::<W>(pool, std::slice::from_ref(call)).await?;
    answers.pop().ok_or_else(|| PortError::failed(format!("{}: a round of one answered nothing", W::ACTION)))
}

/// Serves `calls` all or nothing: in a transaction, unless their work is one statement.
/// Checks that every call got its answer.
async fn serve<W: RoundWork>(pool: &PgPool, calls: &[W::Call]) -> Result<Vec<W::Answer>, PortError> {
    let answers = if W::ONE_STATEMENT {
        pool.run(W::ACTION, async |connection| W::serve(connection, calls).await).await?
    } else {
        pool.transaction(W::ACTION, async |connection| W::serve(connection, calls).await).await?
    };
    if answers.len() != calls.len() {
        return Err(PortError::failed(format!(
            "{}: {} answers for {} calls",
            W::ACTION,
            answers.len(),
            calls.len()
        )));
    }
    Ok(answers)
}
