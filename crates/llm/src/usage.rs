//! Usage rows written off the request path: the handler hands a row to a bounded channel and
//! goes on; one task writes whatever has queued in one transaction.

use std::sync::Arc;

use sentinel_core::LlmUsage;
use sentinel_store::Store;
use tokio::sync::mpsc;

/// Most rows queued before new ones are dropped (and counted).
const QUEUE: usize = 16_384;
/// Most rows per transaction.
const BATCH: usize = 512;

#[derive(Clone)]
pub struct UsageRecorder {
    tx: mpsc::Sender<LlmUsage>,
}

impl UsageRecorder {
    pub fn start(store: Arc<dyn Store>) -> UsageRecorder {
        let (tx, mut rx) = mpsc::channel::<LlmUsage>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                if let Err(e) = store.insert_llm_usage(&batch).await {
                    metrics::counter!("sentinel_llm_usage_dropped_total")
                        .increment(batch.len() as u64);
                    tracing::error!(error = %e, rows = batch.len(), "LLM usage rows lost");
                }
                batch.clear();
            }
        });
        UsageRecorder { tx }
    }

    /// Queues a row; never waits.
    pub fn record(&self, row: LlmUsage) {
        if self.tx.try_send(row).is_err() {
            metrics::counter!("sentinel_llm_usage_dropped_total").increment(1);
        }
    }
}
