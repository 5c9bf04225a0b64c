//! The audit log's writer: entries are sequenced, hashed into the RFC 6962 tree and made durable
//! in batches (group commit), and callers are answered only once their entry is durable ("log
//! before acting"). Checkpoints are signed at most ~0.6 s behind under load and at least every
//! 60 s when idle; the tree is persisted before its checkpoint is signed.
//!
//! One writer per database: cluster nodes sharing PostgreSQL must elect one (not built yet).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_audit::checkpoint::Checkpoint;
use sentinel_audit::entry::{AuditEntry, EntryKind};
use sentinel_audit::merkle::{self, Hash, HashReader};
use sentinel_audit::note::{NoteSigner, NoteVerifier};
use sentinel_audit::AuditError;
use sentinel_store::{AuditRecord, Store, StoredCheckpoint};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

const BATCH: usize = 1024;
/// A new checkpoint once this much time has passed since the last and the log has grown, so
/// checkpoints trail appends by well under a second.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
const CHECKPOINT_TICK: Duration = Duration::from_millis(100);
const CHECKPOINT_IDLE: Duration = Duration::from_secs(60);

/// What a caller wants recorded.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub tenant: Option<Uuid>,
    pub actor: String,
    pub kind: EntryKind,
    pub agent: Option<String>,
    pub tool: Option<String>,
    pub outcome: Option<String>,
    pub policy_revision: Option<String>,
    pub request_digest: Option<String>,
    pub details: serde_json::Value,
}

/// Where an entry landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub index: u64,
    pub leaf_hash: Hash,
}

struct Append {
    entry: NewEntry,
    done: oneshot::Sender<Result<Receipt, String>>,
}

pub struct AuditLog {
    tx: mpsc::Sender<Append>,
    verifier: NoteVerifier,
    origin: String,
}

impl AuditLog {
    /// Opens the log in `store` and starts its writer.
    pub async fn start(store: Arc<dyn Store>, signer: NoteSigner) -> Result<AuditLog, String> {
        let size = store.audit_size().await.map_err(|e| e.to_string())?;
        let mut frontier = Frontier::default();
        let peaks = peak_indexes(size);
        let hashes = store
            .audit_hashes(&peaks)
            .await
            .map_err(|e| format!("audit tree: {e}"))?;
        frontier.hashes.extend(peaks.into_iter().zip(hashes));
        let origin = signer.name().to_string();
        let verifier = signer.verifier();
        let (tx, rx) = mpsc::channel(BATCH * 8);
        let writer = Writer {
            store,
            signer,
            size,
            frontier,
            last_checkpoint: None,
        };
        tokio::spawn(writer.run(rx));
        Ok(AuditLog {
            tx,
            verifier,
            origin,
        })
    }

    /// Appends an entry and waits until it is durable.
    pub async fn append(&self, entry: NewEntry) -> Result<Receipt, String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Append { entry, done })
            .await
            .map_err(|_| "the audit writer has stopped".to_string())?;
        wait.await
            .map_err(|_| "the audit writer has stopped".to_string())?
    }

    /// The verifier key in the standard note form (`<name>+<hex id>+<base64 key>`).
    pub fn verifier_key(&self) -> String {
        self.verifier.to_key_string()
    }

    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The checkpoint origin line, e.g. `sentinel.example/audit`.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// The tree hashes future appends and root computations read: the peaks of the current tree,
/// plus what the batch in progress adds.
#[derive(Default)]
struct Frontier {
    hashes: HashMap<u64, Hash>,
}

impl HashReader for Frontier {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, AuditError> {
        indexes
            .iter()
            .map(|i| {
                self.hashes.get(i).copied().ok_or_else(|| {
                    AuditError::HashStorage(format!("hash {i} is not on the frontier"))
                })
            })
            .collect()
    }
}

/// Stored-hash indexes of the complete subtrees ("peaks") of a tree of `size` leaves.
fn peak_indexes(size: u64) -> Vec<u64> {
    (0..64u32)
        .rev()
        .filter(|level| size >> level & 1 == 1)
        .map(|level| merkle::stored_hash_index(level, (size >> level) - 1))
        .collect()
}

struct Writer {
    store: Arc<dyn Store>,
    signer: NoteSigner,
    size: u64,
    frontier: Frontier,
    last_checkpoint: Option<(u64, Instant)>,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Append>) {
        let mut batch = Vec::with_capacity(BATCH);
        let mut tick = tokio::time::interval(CHECKPOINT_TICK);
        loop {
            tokio::select! {
                n = rx.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        break;
                    }
                    self.commit(std::mem::take(&mut batch)).await;
                    self.maybe_checkpoint().await;
                }
                _ = tick.tick() => self.maybe_checkpoint().await,
            }
        }
    }

    /// Sequences, hashes and stores one batch; answers every caller.
    async fn commit(&mut self, batch: Vec<Append>) {
        let started = Instant::now();
        let mut records = Vec::with_capacity(batch.len());
        let mut new_hashes = Vec::new();
        let mut overlay = Frontier {
            hashes: self.frontier.hashes.clone(),
        };
        let mut receipts = Vec::with_capacity(batch.len());
        let mut failure = None;
        for (i, append) in batch.iter().enumerate() {
            let seq = self.size + i as u64;
            let e = &append.entry;
            let entry = AuditEntry {
                seq,
                time: rfc3339_now(),
                tenant: e.tenant.map(|t| t.to_string()),
                actor: e.actor.clone(),
                kind: e.kind,
                policy_revision: e.policy_revision.clone(),
                request_digest: e.request_digest.clone(),
                details: e.details.clone(),
            };
            let bytes = entry.to_canonical_bytes();
            let leaf = merkle::record_hash(&bytes);
            match merkle::stored_hashes_for_record_hash(seq, leaf, &overlay) {
                Ok(hashes) => {
                    let first = merkle::stored_hash_count(seq);
                    for (k, h) in hashes.into_iter().enumerate() {
                        overlay.hashes.insert(first + k as u64, h);
                        new_hashes.push((first + k as u64, h));
                    }
                }
                Err(e) => {
                    failure = Some(format!("audit tree: {e}"));
                    break;
                }
            }
            records.push(AuditRecord {
                seq,
                tenant_id: e.tenant,
                kind: kind_name(e.kind),
                agent: e.agent.clone(),
                tool: e.tool.clone(),
                outcome: e.outcome.clone(),
                created_at: sentinel_core::ids::now(),
                entry: String::from_utf8(bytes).expect("canonical JSON is UTF-8"),
                leaf_hash: leaf,
            });
            receipts.push(Receipt {
                index: seq,
                leaf_hash: leaf,
            });
        }
        if failure.is_none() {
            if let Err(e) = self.store.append_audit(&records, &new_hashes).await {
                failure = Some(format!("the audit log could not be written: {e}"));
            }
        }
        match failure {
            None => {
                self.size += batch.len() as u64;
                // Keep only the peaks: everything later appends and roots can ever read.
                let peaks = peak_indexes(self.size);
                self.frontier.hashes = peaks
                    .iter()
                    .filter_map(|i| overlay.hashes.get(i).map(|h| (*i, *h)))
                    .collect();
                metrics::counter!("sentinel_audit_entries_total").increment(batch.len() as u64);
                metrics::histogram!("sentinel_audit_batch_size").record(batch.len() as f64);
                metrics::histogram!("sentinel_audit_commit_seconds")
                    .record(started.elapsed().as_secs_f64());
                for (append, receipt) in batch.into_iter().zip(receipts) {
                    let _ = append.done.send(Ok(receipt));
                }
            }
            Some(reason) => {
                tracing::error!(%reason, count = batch.len(), "audit append failed");
                for append in batch {
                    let _ = append.done.send(Err(reason.clone()));
                }
            }
        }
    }

    async fn maybe_checkpoint(&mut self) {
        let due = match self.last_checkpoint {
            None => true,
            Some((size, at)) => {
                (size != self.size && at.elapsed() >= CHECKPOINT_EVERY)
                    || at.elapsed() >= CHECKPOINT_IDLE
            }
        };
        if !due {
            return;
        }
        match self.sign_checkpoint().await {
            Ok(()) => self.last_checkpoint = Some((self.size, Instant::now())),
            Err(e) => tracing::error!(error = %e, "checkpoint failed"),
        }
    }

    /// The tree for `size` is already durable (commit precedes this), so what is signed is
    /// always a state the log can prove.
    async fn sign_checkpoint(&self) -> Result<(), String> {
        let root = merkle::tree_hash(self.size, &self.frontier).map_err(|e| e.to_string())?;
        let note = Checkpoint::new(self.signer.name(), self.size, root)
            .sign(&self.signer)
            .map_err(|e| e.to_string())?;
        self.store
            .put_checkpoint(&StoredCheckpoint {
                size: self.size,
                root,
                note,
                created_at: sentinel_core::ids::now(),
            })
            .await
            .map_err(|e| e.to_string())
    }
}

fn kind_name(kind: EntryKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn rfc3339_now() -> String {
    let now = sentinel_core::ids::now();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_follow_the_binary_representation_of_the_size() {
        assert!(peak_indexes(0).is_empty());
        assert_eq!(peak_indexes(1), vec![merkle::stored_hash_index(0, 0)]);
        assert_eq!(
            peak_indexes(6),
            vec![
                merkle::stored_hash_index(2, 0),
                merkle::stored_hash_index(1, 2)
            ]
        );
        assert_eq!(peak_indexes(7).len(), 3);
    }
}
