//! Sequencing ahead of the durable log, for a log only this writer writes (the embedded SQLite
//! store, or PostgreSQL without other nodes sharing it).
//!
//! A batch is sequenced and hashed as soon as it arrives, even while the batch before it is
//! still being written. Its deferred callers (see [`crate::durability`]) get their receipts at
//! once and go on, instead of waiting for that write's `fdatasync`. Every caller still learns
//! its entry is durable only once its own batch is written. Batches that arrive during a write
//! are written together after it: one write and one sync for all of them.
//!
//! A write that fails fails its batches and every batch sequenced after them, whose indexes
//! and hashes were built on the failed ones; their callers are denied. The next batch is
//! sequenced after the last durable entry again: an index is final only once durable, and a
//! deferred caller releases nothing before that.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use sentinel_store::StoreError;

use super::{make_records, prepare_at, store_batch, Append, Prepared, RecordsFate, Writer};
use crate::record::PendingRecord;

/// A write in flight: what the store answered, and what became of the records that went with it.
type Write = Pin<Box<dyn Future<Output = Written> + Send>>;
pub(super) type Written = (Result<(), StoreError>, RecordsFate);

/// The batches sequenced ahead of the durable log: those being written, and those waiting for
/// that write to end.
#[derive(Default)]
pub(super) struct Ahead {
    writing: Vec<Sequenced>,
    write: Option<Write>,
    /// Of the records in the write, how many were made for its batches; the rest were
    /// waiting on their own and rode along.
    own_records: usize,
    queued: Vec<Sequenced>,
}

/// One batch, sequenced: its callers hold their receipts.
struct Sequenced {
    batch: Vec<Append>,
    prepared: Prepared,
    /// The decision records that came with the batch's entries, by position in the batch.
    attached: Vec<(usize, PendingRecord)>,
    started: Instant,
}

impl Ahead {
    pub(super) fn writing(&self) -> bool {
        self.write.is_some()
    }

    /// The end of the write in flight; never, when there is none.
    pub(super) async fn written(ahead: &mut Option<Ahead>) -> Written {
        match ahead.as_mut().and_then(|a| a.write.as_mut()) {
            Some(write) => write.await,
            None => std::future::pending().await,
        }
    }

    /// The last batch sequenced, if any is not yet durable.
    fn tip(&self) -> Option<&Sequenced> {
        self.queued.last().or(self.writing.last())
    }
}

impl Writer {
    /// Sequences `batch` after everything sequenced so far, answers its deferred callers, and
    /// writes it (with whatever else is waiting) unless a write is in flight.
    pub(super) async fn sequence_ahead(&mut self, ahead: &mut Ahead, mut batch: Vec<Append>) {
        let started = Instant::now();
        let attached: Vec<(usize, PendingRecord)> = batch
            .iter_mut()
            .enumerate()
            .filter_map(|(i, append)| append.record.take().map(|r| (i, r)))
            .collect();
        let prepared = match ahead.tip() {
            Some(tip) => {
                let size = tip
                    .prepared
                    .receipts
                    .last()
                    .map_or(self.size, |r| r.index + 1);
                prepare_at(size, &tip.prepared.overlay, &batch)
            }
            None => prepare_at(self.size, &self.frontier, &batch),
        };
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(reason) => {
                self.fail(batch, attached, &reason).await;
                return;
            }
        };
        for (append, receipt) in batch.iter_mut().zip(&prepared.receipts) {
            if let Some(sequenced) = append.sequenced.take() {
                let _ = sequenced.send(*receipt);
            }
        }
        ahead.queued.push(Sequenced {
            batch,
            prepared,
            attached,
            started,
        });
        if !ahead.writing() {
            self.start_write(ahead).await;
        }
    }

    /// Starts writing every queued batch, as one commit with their decision records and those
    /// waiting on their own.
    async fn start_write(&mut self, ahead: &mut Ahead) {
        let mut writing = std::mem::take(&mut ahead.queued);
        let (mut records, mut hashes, mut decisions) = (Vec::new(), Vec::new(), Vec::new());
        for s in &mut writing {
            let made;
            (s.attached, made) =
                make_records(std::mem::take(&mut s.attached), Ok(&s.prepared.receipts)).await;
            decisions.extend(made);
            // Only receipts and the tree are needed once written.
            records.append(&mut s.prepared.records);
            hashes.append(&mut s.prepared.new_hashes);
        }
        ahead.own_records = decisions.len();
        decisions.append(&mut self.decisions);
        let store = self.store.clone();
        ahead.write = Some(Box::pin(async move {
            store_batch(&*store, &records, &hashes, decisions).await
        }));
        ahead.writing = writing;
    }

    /// Answers the callers of the batches just written, then writes what was queued meanwhile.
    pub(super) async fn finish_write(&mut self, ahead: &mut Ahead, (stored, fate): Written) {
        ahead.write = None;
        let written = std::mem::take(&mut ahead.writing);
        match stored {
            Ok(()) => {
                self.records_stored(fate);
                for s in written {
                    self.durable(s.batch, s.prepared, s.started);
                }
                self.maybe_checkpoint().await;
            }
            Err(e) => {
                // Records that were waiting stay waiting, ahead of those that came during the
                // write; those made for the batches are made again, as denied.
                if let RecordsFate::NotWritten(mut decisions) = fate {
                    let mut waiting = decisions.split_off(ahead.own_records);
                    waiting.append(&mut self.decisions);
                    self.decisions = waiting;
                }
                let reason = format!("the audit log could not be written: {e}");
                for s in written {
                    self.fail(s.batch, s.attached, &reason).await;
                }
                // Sequenced after the failed batches: their indexes and hashes are void.
                let after = format!("an earlier audit batch failed ({reason})");
                for s in std::mem::take(&mut ahead.queued) {
                    self.fail(s.batch, s.attached, &after).await;
                }
            }
        }
        if !ahead.queued.is_empty() {
            self.start_write(ahead).await;
        }
    }
}
