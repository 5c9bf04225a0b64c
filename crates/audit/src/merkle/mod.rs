//! RFC 6962 Merkle tree over the audit log, in the "stored hashes" layout.
//!
//! The tree is kept as one flat, append-only array of hashes — every leaf hash and
//! every *complete* interior node — in the order they become known while records
//! are appended. This is the layout of Go's `golang.org/x/mod/sumdb/tlog`, so a
//! store needs a single table `audit_hashes(idx, hash)`; the hash of any tree size,
//! an inclusion proof or a consistency proof then costs O(log n) reads, issued as
//! one batched [`HashReader::read_hashes`] call.
//!
//! Hashing follows RFC 6962 §2.1: `RecordHash(d) = SHA-256(0x00 || d)`,
//! `NodeHash(l, r) = SHA-256(0x01 || l || r)`, and the empty tree hashes to
//! `SHA-256("")`.
//!
//! - [`stored`]: index arithmetic, [`stored_hashes`] (what to persist when appending),
//!   [`tree_hash`].
//! - [`proof`]: [`prove_record`]/[`check_record`] (inclusion) and
//!   [`prove_tree`]/[`check_tree`] (consistency); proofs are RFC 6962 audit paths.
//! - [`memory`]: [`MemoryHashStore`], an in-memory [`HashReader`] for tests, tools
//!   and benchmarks.

pub mod memory;
pub mod proof;
pub mod stored;

use sha2::{Digest, Sha256};

use crate::error::AuditError;

pub use memory::MemoryHashStore;
pub use proof::{check_record, check_tree, prove_record, prove_tree};
pub use stored::{
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes,
    stored_hashes_for_record_hash, tree_hash,
};

/// A SHA-256 tree hash (leaf, interior node or root).
pub type Hash = [u8; 32];

/// RFC 6962 leaf hash: `SHA-256(0x00 || data)`.
pub fn record_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// RFC 6962 hash of the empty tree: `SHA-256("")`.
pub fn empty_tree_hash() -> Hash {
    Sha256::digest([]).into()
}

/// Random access to the stored hashes (see [`stored_hash_index`]).
///
/// The store implements this over its `audit_hashes(idx, hash)` table. Every call
/// made by this module asks for all the hashes it needs at once, so one call is
/// one round trip.
pub trait HashReader {
    /// Returns the hashes at the given stored-hash indexes, in the same order.
    /// Must fail (not guess) if any index is not stored.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, AuditError>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, AuditError> {
        (**self).read_hashes(indexes)
    }
}

/// Reads `indexes` and checks the reader kept its contract on the length.
pub(crate) fn read_exact(
    reader: &impl HashReader,
    indexes: &[u64],
) -> Result<Vec<Hash>, AuditError> {
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(AuditError::HashStorage(format!(
            "asked for {} hashes, got {}",
            indexes.len(),
            hashes.len()
        )));
    }
    Ok(hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed independently with Python's hashlib, e.g.
    // hashlib.sha256(b"").hexdigest() and hashlib.sha256(b"\x00").hexdigest().
    #[test]
    fn rfc6962_empty_tree_and_empty_leaf() {
        assert_eq!(
            hex::encode(empty_tree_hash()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(record_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn node_hash_is_domain_separated() {
        let a = record_hash(b"a");
        assert_ne!(node_hash(&a, &a), record_hash(&[a, a].concat()));
    }
}
