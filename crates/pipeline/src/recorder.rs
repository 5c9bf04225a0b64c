//! The decision log writer: decisions are queued and written in batches, off the request path.
//! With an audit log, its writer takes them (into its own commits, see [`crate::audit_log`]);
//! without one, a task of the recorder's own writes them, one transaction per batch.

use std::sync::Arc;
use std::time::Duration;

use sentinel_core::DecisionRecord;
use sentinel_store::Store;
use tokio::sync::mpsc;

use crate::AuditLog;

const BATCH: usize = 512;
const QUEUE: usize = 65_536;

#[derive(Clone)]
pub enum DecisionRecorder {
    Own(mpsc::Sender<DecisionRecord>),
    Audit(Arc<AuditLog>),
}

impl DecisionRecorder {
    /// Starts the writer task.
    pub fn start(store: Arc<dyn Store>) -> DecisionRecorder {
        let (tx, mut rx) = mpsc::channel::<DecisionRecord>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let mut delay = Duration::from_millis(50);
                while let Err(e) = store.insert_decisions(&batch).await {
                    tracing::error!(error = %e, count = batch.len(), "decision log write failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                metrics::counter!("sentinel_decisions_recorded_total")
                    .increment(batch.len() as u64);
                batch.clear();
            }
        });
        DecisionRecorder::Own(tx)
    }

    /// Queues a record, waiting when the queue is full (backpressure rather than loss).
    pub async fn record(&self, record: DecisionRecord) {
        let queued = match self {
            DecisionRecorder::Own(tx) => tx.send(record).await.is_ok(),
            DecisionRecorder::Audit(audit) => audit.record_decision(record).await,
        };
        if !queued {
            tracing::error!("decision log writer has stopped");
        }
    }
}
