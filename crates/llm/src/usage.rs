//! Usage rows written off the request path: the handler hands a row to a bounded channel and
//! goes on; one task writes whatever has queued in one transaction. After the first row of a
//! batch it waits a little ([`LINGER`]) for more, so that under load a transaction (and its
//! fsync, on the one writer connection the audit log's commits also wait for) carries many
//! rows rather than a few.

use std::sync::Arc;
use std::time::Duration;

use sentinel_core::LlmUsage;
use sentinel_store::Store;
use tokio::sync::mpsc;

/// Most rows queued before new ones are dropped (and counted).
const QUEUE: usize = 16_384;
/// Most rows per transaction.
const BATCH: usize = 512;
/// How long a batch waits for more rows after its first (the same wait as the decision log's
/// records). The rows are not durable before their transaction anyway; this only widens the
/// window a crash can lose by as much.
const LINGER: Duration = Duration::from_millis(50);

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
                let deadline = tokio::time::Instant::now() + LINGER;
                while batch.len() < BATCH {
                    let room = BATCH - batch.len();
                    match tokio::time::timeout_at(deadline, rx.recv_many(&mut batch, room)).await {
                        Ok(n) if n > 0 => {}
                        // The wait is over, or every sender is gone: write what there is.
                        _ => break,
                    }
                }
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
