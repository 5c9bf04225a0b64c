//! Audit appends on the embedded (SQLite) store: durable in the audit journal first, then
//! applied to the tables by a task of their own.
//!
//! [`AuditJournal::append`] answers once the batch is in the journal (one write and one
//! `fdatasync`, see [`crate::audit_journal`]): that is when the pipeline may let the action
//! run. The applier writes the batches into the tables behind it, several at a time and without
//! waiting for SQLite's own fsync, except every [`FULL_EVERY`] bytes, after which the journal
//! may reuse its space. Reads of the audit and decision logs wait until the tables hold every
//! batch that was durable when they were asked ([`AuditJournal::caught_up`]), so a client that
//! got a decision finds it in both logs. On start, batches the tables lack are replayed.
//!
//! While the tables refuse the applier's writes (a full disk, say), new appends are refused with
//! the tables' reason: the log fails closed instead of running ahead of what can be read back.
//! A decision record the decisions table refuses does not stop the audit log: the entries are
//! applied without it and the record is retried on its own, unless its tenant was deleted
//! meanwhile (its decision log went with it): then it is dropped, here and on replay.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentinel_core::DecisionRecord;
use tokio::sync::{mpsc, watch};

use crate::audit_journal::{JournalFiles, OpenError, SWITCH_AT};
use crate::journal_batch::JournalBatch;
use crate::sql_audit::{
    audit_inserts, decision_inserts, decision_rows_where, Durability, Statement,
};
use crate::{AuditRecord, Dialect, Result, SqlStore, StoreError};

/// After this many journaled bytes are applied, one apply waits for SQLite's fsync: everything
/// applied before it is then durable in the database and the journal may write over it.
const FULL_EVERY: u64 = SWITCH_AT / 2;
/// Batches waiting for the applier at most; an append waits for room (backpressure).
const QUEUE: usize = 256;
/// Batches the applier writes as one transaction at most.
const APPLY_MANY: usize = 64;
/// How long the applier waits for more batches before it writes what it has, unless a reader
/// is waiting for them.
const APPLY_LINGER: Duration = Duration::from_millis(10);
/// How long a read waits for the tables to catch up before it is refused.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(10);
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Whether a store journals its audit appends, and whose journal it is.
#[derive(Clone)]
pub(crate) enum Journal {
    /// Appends go straight into the tables (PostgreSQL, in-memory SQLite, or turned off).
    Off,
    On(Arc<AuditJournal>),
    /// Another store (in this process or another) writes this database's audit log.
    HeldElsewhere(Arc<PathBuf>),
}

impl Journal {
    /// Opens the journal of the SQLite database at `db` and replays what the tables lack.
    /// `fresh`: the database file was made just now, so old journal files beside it are stale.
    pub(crate) async fn open(store: &SqlStore, db: &Path, fresh: bool) -> Result<Journal> {
        let files = match JournalFiles::open(db, fresh) {
            Ok(files) => files,
            Err(OpenError::Locked(path)) => return Ok(Journal::HeldElsewhere(Arc::new(path))),
            Err(OpenError::Io(path, e)) => {
                return Err(StoreError::Unavailable(format!(
                    "the audit journal {}: {e}",
                    path.display()
                )))
            }
        };
        let size = replay(store, &files).await?;
        make_durable(store).await?;
        let (applied, _) = watch::channel(Applied {
            end: size,
            failure: None,
        });
        let progress = Arc::new(Progress {
            journaled: AtomicU64::new(size),
            durable_in_db: AtomicU64::new(size),
            applied,
            hurry: tokio::sync::Notify::new(),
        });
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(apply(store.clone(), progress.clone(), rx));
        Ok(Journal::On(Arc::new(AuditJournal {
            files: Arc::new(Mutex::new(files)),
            order: Arc::new(tokio::sync::Mutex::new(())),
            progress,
            tx,
        })))
    }
}

pub(crate) struct AuditJournal {
    files: Arc<Mutex<JournalFiles>>,
    /// Appends in the order they were asked for, each to the end even if its caller gives up.
    order: Arc<tokio::sync::Mutex<()>>,
    progress: Arc<Progress>,
    tx: mpsc::Sender<Batch>,
}

struct Progress {
    /// One past the last entry durable in the journal.
    journaled: AtomicU64,
    /// One past the last entry durable in the database itself.
    durable_in_db: AtomicU64,
    applied: watch::Sender<Applied>,
    /// A reader is waiting for the tables: the applier stops lingering.
    hurry: tokio::sync::Notify,
}

#[derive(Clone)]
struct Applied {
    /// One past the last entry the tables hold.
    end: u64,
    /// Why the tables refuse the applier's writes, while they do.
    failure: Option<String>,
}

/// One journaled batch on its way to the tables.
struct Batch {
    statements: JournalBatch,
    /// Its size in the journal.
    bytes: u64,
}

impl AuditJournal {
    /// Makes the batch durable in the journal and queues it for the tables.
    pub(crate) async fn append(
        &self,
        records: &[AuditRecord],
        hashes: &[(u64, [u8; 32])],
        decisions: &[DecisionRecord],
    ) -> Result<()> {
        if let Some(why) = &self.progress.applied.borrow().failure {
            return Err(StoreError::Unavailable(format!(
                "the audit log's tables refuse writes: {why}"
            )));
        }
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Ok(());
        };
        let (first, end) = (first.seq, last.seq + 1);
        // Only SQLite stores keep a journal.
        let dialect = Dialect::Sqlite;
        let statements = JournalBatch {
            last: end - 1,
            entries: audit_inserts(dialect, records, hashes, &[]),
            decisions: decision_inserts(dialect, decisions),
        };
        let payload = statements.encode();
        let batch = Batch {
            statements,
            bytes: payload.len() as u64,
        };
        let turn = self.order.clone().lock_owned().await;
        // The journal holds the log in order, without gaps: replay could not mend one.
        let journaled = self.progress.journaled.load(Ordering::Acquire);
        if first < journaled {
            return Err(StoreError::Conflict(format!("audit entry {first}")));
        }
        if first > journaled {
            return Err(StoreError::Unavailable(format!(
                "audit entry {first} would leave a gap: the log's next entry is {journaled}"
            )));
        }
        // Room for the batch in the applier's queue is taken before anything is written: once
        // the batch is in the journal, nothing may fail (the caller would sequence it again).
        let permit =
            match tokio::time::timeout(CATCH_UP_LIMIT, self.tx.clone().reserve_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) => {
                    return Err(StoreError::Unavailable(
                        "the audit log's applier has stopped".into(),
                    ))
                }
                Err(_) => {
                    return Err(StoreError::Unavailable(
                        "the audit log's tables are not keeping up with its journal".into(),
                    ))
                }
            };
        let (files, progress) = (self.files.clone(), self.progress.clone());
        // One hop to a blocking thread does it all. Once begun, an append runs to its end even
        // if the caller stops waiting: a batch in the journal is in the log, so the tables must
        // get it too, in order (the turn is let go only after the batch is queued).
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let durable_in_db = progress.durable_in_db.load(Ordering::Acquire);
            let mut files = files.lock().unwrap_or_else(|e| e.into_inner());
            // The disk's share of a durable append, apart from the hops around it.
            let started = std::time::Instant::now();
            let written = files.append(first, end, &payload, durable_in_db);
            metrics::histogram!("sentinel_audit_journal_sync_seconds")
                .record(started.elapsed().as_secs_f64());
            written.map_err(|e| {
                StoreError::Unavailable(format!(
                    "the audit journal {}: {e}",
                    files.path().display()
                ))
            })?;
            progress.journaled.store(end, Ordering::Release);
            permit.send(batch);
            Ok(())
        })
        .await
        .unwrap_or_else(|e| {
            Err(StoreError::Unavailable(format!(
                "audit append stopped: {e}"
            )))
        })
    }

    /// Waits until the tables hold every batch that was durable when this was called.
    pub(crate) async fn caught_up(&self) -> Result<()> {
        let target = self.progress.journaled.load(Ordering::Acquire);
        let mut applied = self.progress.applied.subscribe();
        let wait = async {
            loop {
                {
                    let now = applied.borrow_and_update();
                    if now.end >= target {
                        return Ok(());
                    }
                    self.progress.hurry.notify_one();
                    if let Some(why) = &now.failure {
                        return Err(StoreError::Unavailable(format!(
                            "the audit log's tables are behind its journal: {why}"
                        )));
                    }
                }
                if applied.changed().await.is_err() {
                    return Err(StoreError::Unavailable(
                        "the audit applier has stopped".into(),
                    ));
                }
            }
        };
        tokio::time::timeout(CATCH_UP_LIMIT, wait)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "the audit log's tables did not catch up with its journal in time".into(),
                ))
            })
    }
}

/// Writes the journal's batches the tables lack into them; the log's size afterwards.
async fn replay(store: &SqlStore, files: &JournalFiles) -> Result<u64> {
    let frames = files.read_all().map_err(|e| {
        StoreError::Unavailable(format!("the audit journal could not be read: {e}"))
    })?;
    let mut size = store.audit_count().await?;
    let mut replayed = 0u64;
    for frame in frames {
        if frame.end <= size {
            continue; // already in the tables (or a stale frame from an earlier turn)
        }
        if frame.first != size {
            return Err(StoreError::Corrupt(format!(
                "the audit journal beside the database does not continue its log: the tables \
                 hold {size} entries and the journal's next batch starts at {}",
                frame.first
            )));
        }
        let batch = JournalBatch::decode(&frame.payload)?;
        let mut all = batch.entries.clone();
        all.extend(batch.decisions.iter().cloned());
        if let Err(e) = store.write_all(all, Durability::Full).await {
            // Most likely a tenant deleted since: its records go, the others' are kept.
            let tenants = store.tenant_ids().await?;
            let (decisions, left_out) =
                decision_rows_where(Dialect::Sqlite, &batch.decisions, |t| tenants.contains(t));
            let mut all = batch.entries.clone();
            all.extend(decisions);
            if left_out > 0 && store.write_all(all, Durability::Full).await.is_ok() {
                tracing::warn!(
                    records = left_out,
                    "replayed an audit batch without the decision records of deleted tenants"
                );
            } else {
                tracing::warn!(error = %e, "replaying an audit batch with its decision records failed; replaying the entries alone");
                store.write_all(batch.entries, Durability::Full).await?;
            }
        }
        size = frame.end;
        replayed += frame.end - frame.first;
    }
    if replayed > 0 {
        tracing::info!(
            entries = replayed,
            "replayed audit entries from the journal into the tables"
        );
    }
    Ok(size)
}

/// Makes everything the tables hold durable in the database file: the journal starts over
/// from its first file, over batches the last run applied without waiting for SQLite's fsync.
async fn make_durable(store: &SqlStore) -> Result<()> {
    use sqlx::Row;
    // With `synchronous = FULL`, a checkpoint syncs the WAL, copies it into the database and
    // syncs that; FULL waits (busy handler) for readers on older snapshots.
    let row = sqlx::query("PRAGMA wal_checkpoint(FULL)")
        .fetch_one(store.writer())
        .await?;
    let busy: i64 = row.try_get(0)?;
    if busy != 0 {
        return Err(StoreError::Unavailable(
            "the database could not be checkpointed before the audit journal is reused: \
             another connection holds it busy"
                .into(),
        ));
    }
    Ok(())
}

/// The applier: writes journaled batches into the tables, in order.
async fn apply(store: SqlStore, progress: Arc<Progress>, mut rx: mpsc::Receiver<Batch>) {
    let mut batches = Vec::with_capacity(APPLY_MANY);
    let mut since_full = 0u64;
    let mut held = HeldDecisions::default();
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batches, APPLY_MANY) => {
                if n == 0 {
                    break;
                }
                // Fewer, larger transactions: each SQLite commit rewrites the same index and
                // root pages, and its CPU and page writes compete with the requests it no
                // longer delays. A reader waiting for the tables cuts the wait short.
                if batches.len() < APPLY_MANY {
                    tokio::select! {
                        _ = tokio::time::sleep(APPLY_LINGER) => {}
                        _ = progress.hurry.notified() => {}
                    }
                    while batches.len() < APPLY_MANY {
                        match rx.try_recv() {
                            Ok(batch) => batches.push(batch),
                            Err(_) => break,
                        }
                    }
                }
                let bytes: u64 = batches.iter().map(|b| b.bytes).sum();
                let end = batches.last().map_or(0, |b| b.statements.last + 1);
                let sync = if since_full + bytes >= FULL_EVERY { Durability::Full } else { Durability::Deferred };
                let mut merged = JournalBatch { last: end.saturating_sub(1), ..JournalBatch::default() };
                for b in batches.drain(..) {
                    merged.entries.extend(b.statements.entries);
                    merged.decisions.extend(b.statements.decisions);
                }
                write_batch(&store, &progress, merged, sync, &mut held).await;
                progress.applied.send_modify(|a| {
                    a.end = end;
                    a.failure = None;
                });
                if sync == Durability::Full {
                    progress.durable_in_db.store(end, Ordering::Release);
                    since_full = 0;
                } else {
                    since_full += bytes;
                }
            }
            _ = held.due(), if held.waiting() => held.retry(&store).await,
        }
    }
}

/// Writes one batch into the tables, retrying until they take its entries.
async fn write_batch(
    store: &SqlStore,
    progress: &Progress,
    batch: JournalBatch,
    sync: Durability,
    held: &mut HeldDecisions,
) {
    let mut wait = RETRY_FIRST;
    loop {
        let mut all = batch.entries.clone();
        all.extend(batch.decisions.iter().cloned());
        let Err(error) = store.write_all(all, sync).await else {
            return;
        };
        // A write reported failed may have committed (an error after COMMIT): writing it again
        // would only meet its own rows.
        if matches!(store.read_audit_entry(batch.last).await, Ok(Some(_))) {
            return;
        }
        if !batch.decisions.is_empty() && store.write_all(batch.entries.clone(), sync).await.is_ok()
        {
            tracing::warn!(%error, "the decision log refused records; the audit entries were applied, the records are retried");
            held.hold(batch.decisions);
            return;
        }
        tracing::error!(%error, "the audit log's tables refuse the journal's batch; retrying");
        progress
            .applied
            .send_modify(|a| a.failure = Some(error.to_string()));
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RETRY_MAX);
    }
}

/// Decision records the decisions table refused, retried with backoff until it takes them.
#[derive(Default)]
struct HeldDecisions {
    records: Vec<Statement>,
    due: Option<tokio::time::Instant>,
    wait: Option<Duration>,
}

impl HeldDecisions {
    fn hold(&mut self, mut records: Vec<Statement>) {
        self.records.append(&mut records);
        let wait = self.wait.unwrap_or(RETRY_FIRST);
        self.due
            .get_or_insert_with(|| tokio::time::Instant::now() + wait);
    }

    fn waiting(&self) -> bool {
        !self.records.is_empty()
    }

    async fn due(&self) {
        match self.due {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    async fn retry(&mut self, store: &SqlStore) {
        // A tenant deleted since took its decisions with it (ON DELETE CASCADE): its records
        // can never be written, and must not hold up the others'.
        if let Ok(tenants) = store.tenant_ids().await {
            let (records, left_out) =
                decision_rows_where(Dialect::Sqlite, &self.records, |t| tenants.contains(t));
            if left_out > 0 {
                tracing::warn!(
                    records = left_out,
                    "decision records of deleted tenants are dropped: their tenant's decision log is gone"
                );
                self.records = records;
            }
            if self.records.is_empty() {
                *self = HeldDecisions::default();
                return;
            }
        }
        match store
            .write_all(self.records.clone(), Durability::Full)
            .await
        {
            Ok(()) => *self = HeldDecisions::default(),
            Err(e) => {
                let wait = (self.wait.unwrap_or(RETRY_FIRST) * 2).min(RETRY_MAX);
                tracing::error!(error = %e, "the decision log still refuses records; retrying");
                self.wait = Some(wait);
                self.due = Some(tokio::time::Instant::now() + wait);
            }
        }
    }
}
