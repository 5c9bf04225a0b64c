//! An in-memory stored-hash array: the reference [`HashReader`] for tests, offline
//! verification and benchmarks.

use super::{stored_hash_count, stored_hashes_for_record_hash, tree_hash, Hash, HashReader};
use crate::error::AuditError;
use crate::merkle::record_hash;

/// A growable stored-hash array with its record count.
#[derive(Debug, Clone, Default)]
pub struct MemoryHashStore {
    hashes: Vec<Hash>,
    records: u64,
}

impl MemoryHashStore {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a record and returns its index.
    pub fn append(&mut self, data: &[u8]) -> Result<u64, AuditError> {
        self.append_record_hash(record_hash(data))
    }

    /// Appends a record given by its leaf hash and returns its index.
    pub fn append_record_hash(&mut self, leaf: Hash) -> Result<u64, AuditError> {
        let n = self.records;
        let new = stored_hashes_for_record_hash(n, leaf, &*self)?;
        self.hashes.extend(new);
        self.records += 1;
        debug_assert_eq!(self.hashes.len() as u64, stored_hash_count(self.records));
        Ok(n)
    }

    /// Number of records appended.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether no record has been appended.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Root hash of the whole tree.
    pub fn root(&self) -> Result<Hash, AuditError> {
        tree_hash(self.records, self)
    }

    /// The raw stored-hash array (what a store would persist).
    pub fn stored(&self) -> &[Hash] {
        &self.hashes
    }

    /// Mutable access to the stored hashes, so tests can simulate a corrupt store.
    pub fn stored_mut(&mut self) -> &mut [Hash] {
        &mut self.hashes
    }
}

impl HashReader for MemoryHashStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, AuditError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.hashes.get(i))
                    .copied()
                    .ok_or_else(|| AuditError::HashStorage(format!("no stored hash at index {i}")))
            })
            .collect()
    }
}
