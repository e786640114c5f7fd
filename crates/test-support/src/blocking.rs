//! Async clean-up from `Drop`.

use std::future::Future;

/// Runs `work` to completion on a thread and a current-thread runtime of its own, and
/// returns its output; `Err` says why it could not run.
///
/// `Drop` may run inside a Tokio runtime, which must not be blocked on, and outside
/// one, where there is nothing to await on: a runtime of its own works in both.
pub(crate) fn run_on_own_runtime<F>(work: F) -> Result<F::Output, String>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start a runtime: {error}"))?;
        Ok(runtime.block_on(work))
    })
    .join()
    .unwrap_or_else(|_| Err("the clean-up panicked".to_owned()))
}
