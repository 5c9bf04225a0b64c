//! The audit log's writer: entries are sequenced, hashed into the RFC 6962 tree and made durable
//! in batches (group commit), and callers are answered only once their entry is durable ("log
//! before acting"). Checkpoints are signed at most ~0.6 s behind under load and at least every
//! 60 s when idle; the tree is persisted before its checkpoint is signed.
//!
//! The writer also takes the decision log's records. A decision's record that comes with its
//! entry ([`AuditLog::append_decision`], strict audit) is made here, once the entry is
//! sequenced, and committed in the entry's transaction: an answered decision is in both logs.
//! Records queued on their own (see [`crate::recorder`]) ride along in the next audit commit,
//! one transaction and one fsync for both, or are written on their own after
//! [`DECISIONS_WAIT`] when no append comes.
//!
//! A log that only this writer writes is sequenced ahead of its writes ([`ahead`]): a batch
//! gets its indexes while the batch before it is still being synced, and deferred callers (the
//! LLM gateway's provider calls) go on without waiting for that sync. Cluster nodes sharing
//! PostgreSQL each run a writer: appends are optimistic (see [`Writer::commit`]), and every node
//! must sign with the same `audit.key`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_audit::checkpoint::Checkpoint;
use sentinel_audit::entry::{AuditEntry, EntryKind};
use sentinel_audit::merkle::{self, Hash, HashReader};
use sentinel_audit::note::{NoteSigner, NoteVerifier};
use sentinel_audit::AuditError;
use sentinel_core::DecisionRecord;
use sentinel_store::{AuditRecord, Store, StoreError, StoredCheckpoint};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::record::PendingRecord;
use ahead::Ahead;

mod ahead;

const BATCH: usize = 1024;
/// How often a batch is sequenced again after losing a race with another node's writer.
const RACE_RETRIES: usize = 16;
/// A new checkpoint once this much time has passed since the last and the log has grown, so
/// checkpoints trail appends by well under a second.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
const CHECKPOINT_TICK: Duration = Duration::from_millis(100);
const CHECKPOINT_IDLE: Duration = Duration::from_secs(60);
/// Decision records held for the next audit commit at most; then written on their own.
const DECISIONS_WAIT: Duration = Duration::from_millis(50);
const DECISIONS_BATCH: usize = 512;
const DECISIONS_QUEUE: usize = 65_536;
/// Records that came with their entries are made on the writer task up to this many per batch;
/// more (a backlog) on the blocking pool, so that making them holds up no request.
const RECORDS_INLINE: usize = 8;

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
    /// The decision log's record of the decision this entry logs, written in the same commit.
    record: Option<PendingRecord>,
    done: oneshot::Sender<Result<Receipt, String>>,
    /// Deferred appends (see [`crate::durability`]) learn their receipt once sequenced, before
    /// the batch is durable.
    sequenced: Option<oneshot::Sender<Receipt>>,
}

pub struct AuditLog {
    tx: mpsc::Sender<Append>,
    decisions: mpsc::Sender<DecisionRecord>,
    verifier: NoteVerifier,
    origin: String,
}

impl AuditLog {
    /// Opens the log in `store` and starts its writer.
    pub async fn start(store: Arc<dyn Store>, signer: NoteSigner) -> Result<AuditLog, String> {
        let (size, frontier) = load_tree(&store)
            .await
            .map_err(|e| format!("audit tree: {e}"))?;
        let origin = signer.name().to_string();
        let verifier = signer.verifier();
        let (tx, rx) = mpsc::channel(BATCH * 8);
        let (decisions, decisions_rx) = mpsc::channel(DECISIONS_QUEUE);
        let writer = Writer {
            store,
            signer,
            size,
            frontier,
            last_checkpoint: None,
            decisions: Vec::new(),
            decisions_due: None,
            decisions_retry: DECISIONS_WAIT,
        };
        tokio::spawn(writer.run(rx, decisions_rx));
        Ok(AuditLog {
            tx,
            decisions,
            verifier,
            origin,
        })
    }

    /// Appends an entry and waits until it is durable. Inside
    /// [`crate::durability::deferring`], waits only until it is sequenced, and leaves the wait
    /// for durability to [`crate::durability::settle`].
    pub async fn append(&self, entry: NewEntry) -> Result<Receipt, String> {
        self.send(entry, None).await
    }

    /// [`AuditLog::append`] for a decision's entry, with the decision's record: the record is
    /// made once the entry is sequenced (it carries the entry's index) and committed with it,
    /// so when this answers the decision is durable in the decision log too. If the entry
    /// cannot be written, the record says the decision was denied for that reason.
    pub async fn append_decision(
        &self,
        entry: NewEntry,
        record: PendingRecord,
    ) -> Result<Receipt, String> {
        self.send(entry, Some(record)).await
    }

    async fn send(
        &self,
        entry: NewEntry,
        record: Option<PendingRecord>,
    ) -> Result<Receipt, String> {
        let stopped = || "the audit writer has stopped".to_string();
        let (done, wait) = oneshot::channel();
        if crate::durability::active() {
            let (sequenced, receipt) = oneshot::channel();
            self.tx
                .send(Append {
                    entry,
                    record,
                    done,
                    sequenced: Some(sequenced),
                })
                .await
                .map_err(|_| stopped())?;
            // A batch that cannot be sequenced drops the sender: its error then comes on `wait`.
            let receipt = match receipt.await {
                Ok(r) => r,
                Err(_) => return wait.await.map_err(|_| stopped())?,
            };
            crate::durability::push(crate::durability::Pending { durable: wait });
            return Ok(receipt);
        }
        self.tx
            .send(Append {
                entry,
                record,
                done,
                sequenced: None,
            })
            .await
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?
    }

    /// Queues a decision log record for the writer, waiting when the queue is full
    /// (backpressure rather than loss). False when the writer has stopped.
    pub async fn record_decision(&self, record: DecisionRecord) -> bool {
        self.decisions.send(record).await.is_ok()
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

/// The stored tree's size and the hashes of its peaks: all a writer needs to append.
async fn load_tree(store: &Arc<dyn Store>) -> Result<(u64, Frontier), StoreError> {
    let size = store.audit_size().await?;
    let peaks = peak_indexes(size);
    let hashes = store.audit_hashes(&peaks).await?;
    let mut frontier = Frontier::default();
    frontier.hashes.extend(peaks.into_iter().zip(hashes));
    Ok((size, frontier))
}

/// One batch, sequenced and hashed, ready to store.
struct Prepared {
    records: Vec<AuditRecord>,
    new_hashes: Vec<(u64, Hash)>,
    overlay: Frontier,
    receipts: Vec<Receipt>,
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
    /// Decision records waiting for the next commit, and when they are written without one.
    decisions: Vec<DecisionRecord>,
    decisions_due: Option<tokio::time::Instant>,
    /// The wait after a failed write of decisions alone, doubling up to 5 s.
    decisions_retry: Duration,
}

impl Writer {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Append>,
        mut decisions: mpsc::Receiver<DecisionRecord>,
    ) {
        let mut batch = Vec::with_capacity(BATCH);
        let mut incoming = Vec::with_capacity(DECISIONS_BATCH);
        let mut tick = tokio::time::interval(CHECKPOINT_TICK);
        // A log of its own is sequenced ahead of its writes (see ahead.rs); one that other
        // nodes write too is sequenced as each batch commits.
        let mut ahead = (!self.store.shared_by_nodes()).then(Ahead::default);
        loop {
            let room = DECISIONS_BATCH.saturating_sub(self.decisions.len());
            // A full batch is written at once, unless it is waiting out a failed write.
            let retrying = self.decisions_retry > DECISIONS_WAIT;
            let due = match self.decisions_due {
                Some(_) if room == 0 && !retrying => Some(tokio::time::Instant::now()),
                due => due,
            };
            // Records alone and checkpoints wait while entries are being written: they go
            // after them, and a checkpoint signs only what is durable.
            let writing = ahead.as_ref().is_some_and(Ahead::writing);
            tokio::select! {
                biased;
                stored = Ahead::written(&mut ahead) => {
                    self.finish_write(ahead.as_mut().expect("only an ahead log writes"), stored).await;
                }
                n = rx.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        break;
                    }
                    match ahead.as_mut() {
                        Some(ahead) => self.sequence_ahead(ahead, std::mem::take(&mut batch)).await,
                        None => {
                            self.commit(std::mem::take(&mut batch)).await;
                            self.maybe_checkpoint().await;
                        }
                    }
                }
                n = decisions.recv_many(&mut incoming, room), if room > 0 => {
                    if n == 0 {
                        break;
                    }
                    self.decisions.append(&mut incoming);
                    self.decisions_due.get_or_insert(tokio::time::Instant::now() + DECISIONS_WAIT);
                }
                _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() && !writing => {
                    self.write_decisions().await;
                }
                _ = tick.tick(), if !writing => self.maybe_checkpoint().await,
            }
        }
        // Shutting down: what is sequenced and queued is still written.
        while ahead.as_ref().is_some_and(Ahead::writing) {
            let stored = Ahead::written(&mut ahead).await;
            self.finish_write(ahead.as_mut().expect("only an ahead log writes"), stored)
                .await;
        }
        decisions.close();
        while let Some(r) = decisions.recv().await {
            self.decisions.push(r);
        }
        if !self.decisions.is_empty() {
            self.write_decisions().await;
        }
    }

    /// Writes the waiting decision records on their own (no audit append came for them).
    async fn write_decisions(&mut self) {
        match self.store.insert_decisions(&self.decisions).await {
            Ok(()) => {
                let records = std::mem::take(&mut self.decisions);
                self.decisions_written(records.len());
            }
            Err(e) => {
                tracing::error!(error = %e, count = self.decisions.len(), "decision log write failed; retrying");
                self.decisions_due = Some(tokio::time::Instant::now() + self.decisions_retry);
                self.decisions_retry = (self.decisions_retry * 2).min(Duration::from_secs(5));
            }
        }
    }

    /// Counts `count` records written; what still waits is due again after the usual wait.
    fn decisions_written(&mut self, count: usize) {
        metrics::counter!("sentinel_decisions_recorded_total").increment(count as u64);
        self.decisions_due =
            (!self.decisions.is_empty()).then(|| tokio::time::Instant::now() + DECISIONS_WAIT);
        self.decisions_retry = DECISIONS_WAIT;
    }

    /// Sequences, hashes and stores one batch; answers every caller. For a log that other nodes
    /// write too; a log of its own is written by [`Writer::sequence_ahead`].
    ///
    /// Several nodes may write one database's log (cluster mode): each batch is one transaction
    /// keyed by sequence number, so a batch that raced another node's fails whole on the
    /// duplicate key. The writer then catches up with the tree as stored and sequences the
    /// batch again after the other node's entries.
    async fn commit(&mut self, mut batch: Vec<Append>) {
        let started = Instant::now();
        let mut outcome = Err(String::new());
        // Records that came with their entries, by position in the batch: made once the batch
        // is sequenced (they carry their entry's index), again if a lost race renumbers it.
        let mut attached: Vec<(usize, PendingRecord)> = batch
            .iter_mut()
            .enumerate()
            .filter_map(|(i, append)| append.record.take().map(|r| (i, r)))
            .collect();
        for attempt in 0..=RACE_RETRIES {
            let prepared = match prepare_at(self.size, &self.frontier, &batch) {
                Ok(p) => p,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            // Deferred callers learn their index only with the commit, below: a lost race
            // renumbers the batch.
            let made;
            (attached, made) = make_records(attached, Ok(&prepared.receipts)).await;
            let own = made.len();
            // The waiting decision records ride along too, unless they make the commit fail.
            let mut decisions = made;
            decisions.append(&mut self.decisions);
            let (stored, fate) = store_batch(
                &*self.store,
                &prepared.records,
                &prepared.new_hashes,
                decisions,
            )
            .await;
            match stored {
                Ok(()) => {
                    self.records_stored(fate);
                    outcome = Ok(prepared);
                    break;
                }
                Err(e) => {
                    // Waiting records stay waiting; those made for this batch are made again.
                    if let RecordsFate::NotWritten(mut decisions) = fate {
                        self.decisions = decisions.split_off(own);
                    }
                    if let (StoreError::Conflict(_), true) = (&e, attempt < RACE_RETRIES) {
                        metrics::counter!("sentinel_audit_append_races_total").increment(1);
                        if let Err(e) = self.catch_up().await {
                            outcome = Err(format!("the audit log could not be read back: {e}"));
                            break;
                        }
                    } else {
                        outcome = Err(format!("the audit log could not be written: {e}"));
                        break;
                    }
                }
            }
        }
        match outcome {
            Ok(prepared) => self.durable(batch, prepared, started),
            Err(reason) => self.fail(batch, attached, &reason).await,
        }
    }

    /// A batch now durable: the tree grows by it, and its callers learn where their entries are.
    fn durable(&mut self, batch: Vec<Append>, prepared: Prepared, started: Instant) {
        self.size += batch.len() as u64;
        // Keep only the peaks: everything later appends and roots can ever read.
        let peaks = peak_indexes(self.size);
        self.frontier.hashes = peaks
            .iter()
            .filter_map(|i| prepared.overlay.hashes.get(i).map(|h| (*i, *h)))
            .collect();
        metrics::counter!("sentinel_audit_entries_total").increment(batch.len() as u64);
        metrics::histogram!("sentinel_audit_batch_size").record(batch.len() as f64);
        metrics::histogram!("sentinel_audit_commit_seconds")
            .record(started.elapsed().as_secs_f64());
        for (mut append, receipt) in batch.into_iter().zip(prepared.receipts) {
            if let Some(sequenced) = append.sequenced.take() {
                let _ = sequenced.send(receipt);
            }
            let _ = append.done.send(Ok(receipt));
        }
    }

    /// A batch that could not be written: its callers are denied for `reason`, and the
    /// decision log says so once the store takes it again.
    async fn fail(
        &mut self,
        batch: Vec<Append>,
        attached: Vec<(usize, PendingRecord)>,
        reason: &str,
    ) {
        tracing::error!(%reason, count = batch.len(), "audit append failed");
        for append in batch {
            let _ = append.done.send(Err(reason.to_string()));
        }
        let (_, denied) = make_records(attached, Err(reason)).await;
        self.queue_decisions(denied);
    }

    /// Counts the records committed with a batch's entries, or queues those the store refused.
    fn records_stored(&mut self, fate: RecordsFate) {
        match fate {
            RecordsFate::Written(0) => {}
            RecordsFate::Written(count) => self.decisions_written(count),
            RecordsFate::Refused(records) | RecordsFate::NotWritten(records) => {
                self.queue_decisions(records)
            }
        }
    }

    /// Queues records to be written on their own (with backoff while the store refuses them).
    fn queue_decisions(&mut self, mut records: Vec<DecisionRecord>) {
        if records.is_empty() {
            return;
        }
        self.decisions.append(&mut records);
        self.decisions_due
            .get_or_insert(tokio::time::Instant::now() + DECISIONS_WAIT);
    }

    /// Reloads the tree's size and peaks from the store: after another node appended.
    async fn catch_up(&mut self) -> Result<(), StoreError> {
        let (size, frontier) = load_tree(&self.store).await?;
        tracing::debug!(
            from = self.size,
            to = size,
            "audit writer caught up with another node"
        );
        self.size = size;
        self.frontier = frontier;
        Ok(())
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

/// `batch`'s records and new tree hashes, sequenced after the tree of `size` entries whose
/// peaks (and any hashes added since) `frontier` holds.
fn prepare_at(size: u64, frontier: &Frontier, batch: &[Append]) -> Result<Prepared, String> {
    let mut prepared = Prepared {
        records: Vec::with_capacity(batch.len()),
        new_hashes: Vec::new(),
        overlay: Frontier {
            hashes: frontier.hashes.clone(),
        },
        receipts: Vec::with_capacity(batch.len()),
    };
    for (i, append) in batch.iter().enumerate() {
        let seq = size + i as u64;
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
        let hashes = merkle::stored_hashes_for_record_hash(seq, leaf, &prepared.overlay)
            .map_err(|e| format!("audit tree: {e}"))?;
        let first = merkle::stored_hash_count(seq);
        for (k, h) in hashes.into_iter().enumerate() {
            prepared.overlay.hashes.insert(first + k as u64, h);
            prepared.new_hashes.push((first + k as u64, h));
        }
        prepared.records.push(AuditRecord {
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
        prepared.receipts.push(Receipt {
            index: seq,
            leaf_hash: leaf,
        });
    }
    Ok(prepared)
}

/// What became of the decision records that went with a batch of entries.
enum RecordsFate {
    /// Committed with the entries (how many).
    Written(usize),
    /// The entries were committed without them; they are to be written on their own.
    Refused(Vec<DecisionRecord>),
    /// Nothing was committed.
    NotWritten(Vec<DecisionRecord>),
}

/// Commits a batch's entries with `decisions`. If the store refuses them for a reason other
/// than a race, the same entries (their receipts may be out already) are committed alone: a
/// bad record must not stop the audit log. The records are then written on their own.
async fn store_batch(
    store: &dyn Store,
    records: &[AuditRecord],
    hashes: &[(u64, Hash)],
    decisions: Vec<DecisionRecord>,
) -> (Result<(), StoreError>, RecordsFate) {
    let stored = store.append_audit(records, hashes, &decisions).await;
    let error = match &stored {
        Ok(()) => return (stored, RecordsFate::Written(decisions.len())),
        Err(StoreError::Conflict(_)) => return (stored, RecordsFate::NotWritten(decisions)),
        Err(_) if decisions.is_empty() => return (stored, RecordsFate::NotWritten(decisions)),
        Err(e) => e.to_string(),
    };
    tracing::warn!(%error, "audit commit with decision records failed; retrying without them");
    match store.append_audit(records, hashes, &[]).await {
        Ok(()) => (Ok(()), RecordsFate::Refused(decisions)),
        Err(e) => (Err(e), RecordsFate::NotWritten(decisions)),
    }
}

/// Makes the records of `attached` (by position in the batch) with their entries' `receipts`, or
/// as denied for the reason the batch failed; gives the pending records back for another try.
/// A panic while making them loses those records (logged), not the writer.
async fn make_records(
    attached: Vec<(usize, PendingRecord)>,
    receipts: Result<&[Receipt], &str>,
) -> (Vec<(usize, PendingRecord)>, Vec<DecisionRecord>) {
    if attached.is_empty() {
        return (attached, Vec::new());
    }
    let audit: Vec<Result<Receipt, String>> = attached
        .iter()
        .map(|(i, _)| match receipts {
            Ok(receipts) => Ok(receipts[*i]),
            Err(reason) => Err(reason.to_string()),
        })
        .collect();
    let make = move |attached: Vec<(usize, PendingRecord)>| {
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            attached
                .iter()
                .zip(&audit)
                .map(|((_, record), audit)| {
                    record.with_audit(audit.as_ref().map_err(|e| e.as_str()).copied())
                })
                .collect::<Vec<_>>()
        }));
        (attached, made)
    };
    let count = attached.len();
    let (attached, made) = if count <= RECORDS_INLINE {
        make(attached)
    } else {
        match tokio::task::spawn_blocking(move || make(attached)).await {
            Ok(out) => out,
            Err(_) => (Vec::new(), Err(Box::new("the blocking pool stopped") as _)),
        }
    };
    match made {
        Ok(made) => (attached, made),
        Err(_) => {
            tracing::error!(count, "decision records could not be made");
            (attached, Vec::new())
        }
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

    fn entry(i: usize) -> NewEntry {
        NewEntry {
            tenant: None,
            actor: format!("agent-{i}"),
            kind: EntryKind::Decision,
            agent: None,
            tool: None,
            outcome: Some("allow".into()),
            policy_revision: None,
            request_digest: None,
            details: serde_json::json!({"i": i}),
        }
    }

    /// Deferred and strict appends from many tasks at once, on the embedded store: most batches
    /// are sequenced while the one before them is being written (see ahead.rs). Every caller
    /// gets its own index, and the stored tree is the one appending the stored entries one at a
    /// time builds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_sequenced_ahead_of_their_writes_build_the_tree_one_at_a_time_would() {
        let (_dir, url) = sentinel_testkit::sqlite();
        let store = sentinel_store::open(&url).await.unwrap();
        let signer = NoteSigner::generate("test.example/audit").unwrap();
        let log = Arc::new(AuditLog::start(store.clone(), signer).await.unwrap());
        let count = 400;
        let tasks: Vec<_> = (0..count)
            .map(|i| {
                let log = log.clone();
                tokio::spawn(async move {
                    if i % 4 == 0 {
                        return log.append(entry(i)).await;
                    }
                    crate::durability::deferring(async {
                        let receipt = log.append(entry(i)).await?;
                        crate::durability::settle().await?;
                        Ok(receipt)
                    })
                    .await
                })
            })
            .collect();
        let mut receipts = Vec::new();
        for t in tasks {
            receipts.push(t.await.unwrap().expect("every append is durable"));
        }
        assert_eq!(receipts.len(), count);
        assert_stored_log_is_theirs(&store, receipts).await;
    }

    /// The stored log is exactly the entries of `receipts`, at their indexes, without a gap,
    /// and its stored tree is the one appending those entries one at a time builds.
    async fn assert_stored_log_is_theirs(store: &Arc<dyn Store>, mut receipts: Vec<Receipt>) {
        receipts.sort_by_key(|r| r.index);
        let size = store.audit_size().await.unwrap();
        let indexes: Vec<u64> = receipts.iter().map(|r| r.index).collect();
        assert_eq!(indexes, (0..size).collect::<Vec<_>>());
        let mut tree = merkle::MemoryHashStore::new();
        for receipt in &receipts {
            let record = store.audit_entry(receipt.index).await.unwrap().unwrap();
            assert_eq!(
                record.leaf_hash, receipt.leaf_hash,
                "entry {}",
                receipt.index
            );
            assert_eq!(
                merkle::record_hash(record.entry.as_bytes()),
                receipt.leaf_hash
            );
            tree.append_record_hash(record.leaf_hash).unwrap();
        }
        let stored: Vec<u64> = (0..merkle::stored_hash_count(size)).collect();
        assert_eq!(store.audit_hashes(&stored).await.unwrap(), tree.stored());
    }

    /// A write that fails while batches are sequenced ahead of it (see ahead.rs): one entry the
    /// table refuses (a trigger stands in for a full disk) among many concurrent strict and
    /// deferred appends. Its caller is denied, and so is every caller whose batch was built on
    /// it; every caller told "durable" finds its entry at its index; the log has no gap and
    /// its tree is whole; and appends after the failure go on from the last durable entry.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_denies_the_batches_sequenced_on_it_and_leaves_no_gap() {
        let (_dir, url) = sentinel_testkit::sqlite();
        // The journal would take the write instead of the table; without it the table's
        // refusal is the write's.
        let mut options = sentinel_store::StoreOptions::default();
        options.audit_journal = false;
        let store = sentinel_store::open_with(&url, options).await.unwrap();
        sqlx::any::install_default_drivers();
        let raw = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_entries \
             WHEN NEW.entry LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .execute(&raw)
        .await
        .unwrap();
        let signer = NoteSigner::generate("test.example/audit").unwrap();
        let log = Arc::new(AuditLog::start(store.clone(), signer).await.unwrap());
        let count = 300;
        let poison = 150;
        let tasks: Vec<_> = (0..count)
            .map(|i| {
                let log = log.clone();
                let mut entry = entry(i);
                if i == poison {
                    entry.actor = "poison".into();
                }
                tokio::spawn(async move {
                    // Spread over a few writes, so that batches are sequenced on the refused
                    // one while it is being written.
                    tokio::time::sleep(Duration::from_micros(i as u64 * 200)).await;
                    if i % 3 == 0 {
                        return log.append(entry).await;
                    }
                    crate::durability::deferring(async {
                        let receipt = log.append(entry).await?;
                        crate::durability::settle().await?;
                        Ok(receipt)
                    })
                    .await
                })
            })
            .collect();
        let mut durable = Vec::new();
        let mut denied = 0;
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(receipt) => {
                    assert_ne!(i, poison, "the refused entry was reported durable");
                    durable.push(receipt);
                }
                Err(_) => denied += 1,
            }
        }
        assert!(denied >= 1, "the refused entry's caller is denied");
        assert_eq!(durable.len() + denied, count);
        let after = log.append(entry(count)).await.expect("the log goes on");
        assert_eq!(after.index, durable.len() as u64);
        durable.push(after);
        eprintln!("{denied} of {count} appends denied with the refused one");
        assert_stored_log_is_theirs(&store, durable).await;
    }
}
