//! The decision log writer: decisions are queued, turned into their records (input document,
//! redaction) and written in batches, all off the request path. With an audit log the records go
//! to its writer, which commits them with its own entries (see [`crate::audit_log`]); without
//! one they are written here, one transaction per batch.

use std::sync::Arc;
use std::time::Duration;

use sentinel_core::DecisionRecord;
use sentinel_store::Store;
use tokio::sync::mpsc;

use crate::record::PendingRecord;
use crate::AuditLog;

const BATCH: usize = 512;
const QUEUE: usize = 65_536;
/// Batches up to this size are built on the writer task; larger ones (a backlog) on the
/// blocking pool, so that building them holds up no request.
const BUILD_INLINE: usize = 8;

/// Where built records are written.
pub enum DecisionSink {
    Store(Arc<dyn Store>),
    /// The audit log's writer: one transaction, and one fsync, for both logs.
    Audit(Arc<AuditLog>),
}

#[derive(Clone)]
pub struct DecisionRecorder {
    tx: mpsc::Sender<PendingRecord>,
}

impl DecisionRecorder {
    /// Starts the writer task.
    pub fn start(sink: DecisionSink) -> DecisionRecorder {
        let (tx, mut rx) = mpsc::channel::<PendingRecord>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let records = match build(std::mem::take(&mut batch)).await {
                    Some(records) => records,
                    None => {
                        tracing::error!("decision records could not be built");
                        continue;
                    }
                };
                match &sink {
                    DecisionSink::Store(store) => write(store.as_ref(), &records).await,
                    DecisionSink::Audit(audit) => {
                        for record in records {
                            if !audit.record_decision(record).await {
                                tracing::error!("the audit writer has stopped");
                                return;
                            }
                        }
                    }
                }
            }
        });
        DecisionRecorder { tx }
    }

    /// Queues a record, waiting when the queue is full (backpressure rather than loss).
    pub(crate) async fn record(&self, record: PendingRecord) {
        if self.tx.send(record).await.is_err() {
            tracing::error!("decision log writer has stopped");
        }
    }
}

/// Writes `records` in one transaction, retrying with backoff until the store takes them.
async fn write(store: &dyn Store, records: &[DecisionRecord]) {
    let mut delay = Duration::from_millis(50);
    while let Err(e) = store.insert_decisions(records).await {
        tracing::error!(error = %e, count = records.len(), "decision log write failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    metrics::counter!("sentinel_decisions_recorded_total").increment(records.len() as u64);
}

/// The records of a batch, in order; `None` if building them panicked.
async fn build(pending: Vec<PendingRecord>) -> Option<Vec<DecisionRecord>> {
    let build = |pending: Vec<PendingRecord>| {
        pending
            .into_iter()
            .map(PendingRecord::into_record)
            .collect::<Vec<_>>()
    };
    if pending.len() <= BUILD_INLINE {
        // A panic loses this batch, as on the blocking pool, rather than the writer.
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(pending))).ok();
    }
    tokio::task::spawn_blocking(move || build(pending))
        .await
        .ok()
}
