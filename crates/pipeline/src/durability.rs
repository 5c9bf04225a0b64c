//! Deferred audit durability, for enforcement points whose action has no side effect of its own
//! until its result is released (a model call: the LLM gateway).
//!
//! With strict audit, `decide()` answers only once the decision's audit entry is durable. Inside
//! [`deferring`], an append instead returns as soon as the writer has *sequenced* the entry (its
//! index and leaf hash are known, so the decision still carries its exact audit reference), and
//! durability is awaited later with [`settle`]. The enforcement point can then run the upstream
//! call while the entry's group commit is in flight, and must call [`settle`] before it releases
//! anything to the client: if the entry could not be made durable, the answer is withheld
//! ("fail closed on what the client sees").
//!
//! Not for actions with side effects of their own (MCP tool calls): those must not start before
//! their entry is durable, which plain `decide()` guarantees.

use std::cell::RefCell;
use std::future::Future;

use tokio::sync::oneshot;

use crate::Receipt;

/// An entry that has been sequenced but may not be durable yet.
pub(crate) struct Pending {
    pub durable: oneshot::Receiver<Result<Receipt, String>>,
}

tokio::task_local! {
    static DEFERRED: RefCell<Vec<Pending>>;
}

/// Runs `f` with the audit appends it makes (through `decide()`, on this task) deferred: each
/// returns once sequenced. Call [`settle`] inside `f` before releasing anything the decisions
/// allowed; entries still pending when `f` ends are not waited for.
pub async fn deferring<F: Future>(f: F) -> F::Output {
    DEFERRED.scope(RefCell::new(Vec::new()), f).await
}

/// Whether the current task is inside [`deferring`].
pub(crate) fn active() -> bool {
    DEFERRED.try_with(|_| ()).is_ok()
}

/// Remembers an entry to wait for in [`settle`].
pub(crate) fn push(pending: Pending) {
    let _ = DEFERRED.try_with(|d| d.borrow_mut().push(pending));
}

/// Waits until every audit entry deferred so far on this task is durable. An error names why
/// one could not be written: the caller must then withhold what the decisions allowed. Outside
/// [`deferring`] there is nothing to wait for.
pub async fn settle() -> Result<(), String> {
    let pending = DEFERRED
        .try_with(|d| std::mem::take(&mut *d.borrow_mut()))
        .unwrap_or_default();
    for p in pending {
        // The index never moves: where other nodes share the log, the writer sequences a
        // deferred entry only when its batch commits.
        p.durable
            .await
            .map_err(|_| "the audit writer has stopped".to_string())??;
    }
    Ok(())
}
