//! Where each hash lives in the flat stored-hash array, and how the array grows.
//!
//! Appending record `n` stores its leaf hash, then one hash for every complete
//! subtree that record `n` finishes — as many as `n` has trailing one bits — at
//! levels 1, 2, …. So the node at `level` covering records
//! `[n << level, (n + 1) << level)` is stored right after the record that finishes
//! it, and a tree of `n` records has `2n - popcount(n)` stored hashes.

use super::{empty_tree_hash, node_hash, read_exact, record_hash, Hash, HashReader};
use crate::error::AuditError;

/// Number of stored hashes after `n` records have been appended.
pub fn stored_hash_count(n: u64) -> u64 {
    2 * n - u64::from(n.count_ones())
}

/// Index in the stored-hash array of the node at `level` with index `n` at that
/// level, i.e. the node covering records `[n << level, (n + 1) << level)`.
///
/// Level 0 holds the leaf (record) hashes.
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    // The record that completes this node is the last one it covers.
    let last_record = ((n + 1) << level) - 1;
    stored_hash_count(last_record) + u64::from(level)
}

/// Inverse of [`stored_hash_index`]: the `(level, n)` stored at `index`.
pub fn split_stored_hash_index(index: u64) -> (u32, u64) {
    // stored_hash_count(r) >= 2r - 64, so the record whose batch holds `index` is
    // at most ~32 steps above index / 2.
    let mut record = index / 2;
    while stored_hash_count(record + 1) <= index {
        record += 1;
    }
    let level = (index - stored_hash_count(record)) as u32;
    (level, ((record + 1) >> level) - 1)
}

/// The hashes to persist, in order, when appending record `n` with contents
/// `data`. The reader must already hold the first `stored_hash_count(n)` hashes.
pub fn stored_hashes(
    n: u64,
    data: &[u8],
    reader: &impl HashReader,
) -> Result<Vec<Hash>, AuditError> {
    stored_hashes_for_record_hash(n, record_hash(data), reader)
}

/// Like [`stored_hashes`], for a caller that already has the leaf hash.
pub fn stored_hashes_for_record_hash(
    n: u64,
    leaf: Hash,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, AuditError> {
    // Record n finishes one subtree per trailing one bit of n; each needs the
    // already-stored left sibling at that level.
    let finished = n.trailing_ones();
    let siblings: Vec<u64> = (0..finished)
        .map(|level| stored_hash_index(level, (n >> level) - 1))
        .collect();
    let left = read_exact(reader, &siblings)?;
    let mut out = Vec::with_capacity(1 + left.len());
    let mut h = leaf;
    out.push(h);
    // Siblings were listed from level 0 upwards, which is also the fold order.
    for l in &left {
        h = node_hash(l, &h);
        out.push(h);
    }
    Ok(out)
}

/// Root hash of the tree holding the first `n` records (RFC 6962 `MTH(D[0:n])`).
pub fn tree_hash(n: u64, reader: &impl HashReader) -> Result<Hash, AuditError> {
    if n == 0 {
        return Ok(empty_tree_hash());
    }
    let indexes = subtree_indexes(0, n);
    let hashes = read_exact(reader, &indexes)?;
    Ok(fold_subtrees(&hashes))
}

/// Stored indexes of the complete subtrees that make up records `[lo, hi)`, left
/// to right. `lo` must be a multiple of the largest power of two `<= hi - lo`,
/// which holds for every range that RFC 6962's recursive split produces.
pub(crate) fn subtree_indexes(lo: u64, hi: u64) -> Vec<u64> {
    debug_assert!(lo < hi);
    let size = hi - lo;
    let mut out = Vec::with_capacity(size.count_ones() as usize);
    let mut start = lo;
    for level in (0..64u32).rev() {
        if size & (1 << level) != 0 {
            out.push(stored_hash_index(level, start >> level));
            start += 1 << level;
        }
    }
    out
}

/// Hash of a range from its complete subtrees, left to right: RFC 6962 splits at
/// the largest power of two, so the range hash is a right fold.
pub(crate) fn fold_subtrees(hashes: &[Hash]) -> Hash {
    let (last, rest) = hashes
        .split_last()
        .expect("a non-empty range has a subtree");
    rest.iter()
        .rev()
        .fold(*last, |acc, left| node_hash(left, &acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_for_small_trees() {
        // Worked by hand: record 0 stores 1 hash, record 1 stores 2, record 2
        // stores 1, record 3 stores 3, record 4 stores 1 …
        let expected = [0, 1, 3, 4, 7, 8, 10, 11, 15];
        for (n, want) in expected.iter().enumerate() {
            assert_eq!(stored_hash_count(n as u64), *want, "n = {n}");
        }
    }

    #[test]
    fn index_layout_by_hand() {
        // Array after 4 records: [L0, L1, N(0..2), L2, L3, N(2..4), N(0..4)].
        assert_eq!(stored_hash_index(0, 0), 0);
        assert_eq!(stored_hash_index(0, 1), 1);
        assert_eq!(stored_hash_index(1, 0), 2);
        assert_eq!(stored_hash_index(0, 2), 3);
        assert_eq!(stored_hash_index(0, 3), 4);
        assert_eq!(stored_hash_index(1, 1), 5);
        assert_eq!(stored_hash_index(2, 0), 6);
        assert_eq!(stored_hash_index(0, 4), 7);
    }

    #[test]
    fn split_inverts_index() {
        for level in 0..12u32 {
            for n in 0..300u64 {
                let i = stored_hash_index(level, n);
                assert_eq!(split_stored_hash_index(i), (level, n));
            }
        }
        // Every index below a count is hit exactly once.
        let total = stored_hash_count(1000);
        for i in 0..total {
            let (level, n) = split_stored_hash_index(i);
            assert_eq!(stored_hash_index(level, n), i);
        }
    }
}
