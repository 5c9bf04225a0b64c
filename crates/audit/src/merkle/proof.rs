//! Inclusion ("record") and consistency ("tree") proofs, RFC 6962 §2.1.1–2.1.2.
//!
//! A proof is a list of subtree hashes, deepest first (the RFC's audit path
//! order), exactly as Go's `tlog.RecordProof` / `tlog.TreeProof`. Building one
//! asks the [`HashReader`] once for the O(log n) stored hashes it needs.
//! Checking a proof needs no reader at all.

use super::stored::{fold_subtrees, subtree_indexes};
use super::{node_hash, read_exact, Hash, HashReader};
use crate::error::AuditError;

/// Largest power of two strictly below `size` (`size >= 2`): RFC 6962's split.
fn split_point(size: u64) -> u64 {
    debug_assert!(size >= 2);
    1 << (63 - (size - 1).leading_zeros())
}

/// Proof that record `n` is in the tree of size `t`.
pub fn prove_record(t: u64, n: u64, reader: &impl HashReader) -> Result<Vec<Hash>, AuditError> {
    if n >= t {
        return Err(AuditError::InvalidInput(format!(
            "record {n} is not in a tree of size {t}"
        )));
    }
    let mut ranges = Vec::new();
    record_path(0, t, n, &mut ranges);
    hash_ranges(&ranges, reader)
}

/// Proof that the tree of size `t` extends the tree of size `n` (`1 <= n <= t`).
pub fn prove_tree(t: u64, n: u64, reader: &impl HashReader) -> Result<Vec<Hash>, AuditError> {
    if n == 0 || n > t {
        return Err(AuditError::InvalidInput(format!(
            "no consistency proof from size {n} to size {t}"
        )));
    }
    let mut ranges = Vec::new();
    consistency_path(n, 0, t, true, &mut ranges);
    hash_ranges(&ranges, reader)
}

/// Checks that `proof` shows record `n` with leaf hash `h` in the tree of size `t`
/// whose root is `th`.
pub fn check_record(proof: &[Hash], t: u64, th: &Hash, n: u64, h: &Hash) -> Result<(), AuditError> {
    if n >= t {
        return Err(AuditError::BadProof(format!(
            "record {n} cannot be in a tree of size {t}"
        )));
    }
    let root = run_record_proof(proof, 0, t, n, *h)?;
    if &root != th {
        return Err(AuditError::BadProof(format!(
            "inclusion proof for record {n} does not lead to the root of size {t}"
        )));
    }
    Ok(())
}

/// Checks that `proof` shows the tree of size `t` with root `th` contains, as a
/// prefix, the tree of size `n` with root `h`.
pub fn check_tree(proof: &[Hash], t: u64, th: &Hash, n: u64, h: &Hash) -> Result<(), AuditError> {
    if n == 0 || n > t {
        return Err(AuditError::BadProof(format!(
            "no consistency proof from size {n} to size {t}"
        )));
    }
    if n == t {
        if !proof.is_empty() || th != h {
            return Err(AuditError::BadProof(format!(
                "trees of equal size {n} must have equal roots and an empty proof"
            )));
        }
        return Ok(());
    }
    let (old, new) = run_tree_proof(proof, n, 0, t, true, h)?;
    if &old != h || &new != th {
        return Err(AuditError::BadProof(format!(
            "consistency proof from size {n} to size {t} does not match the roots"
        )));
    }
    Ok(())
}

/// RFC 6962 `PATH(m, D[lo:hi])` as the list of ranges whose hashes form it.
fn record_path(lo: u64, hi: u64, m: u64, out: &mut Vec<(u64, u64)>) {
    if hi - lo == 1 {
        return;
    }
    let k = split_point(hi - lo);
    if m < lo + k {
        record_path(lo, lo + k, m, out);
        out.push((lo + k, hi));
    } else {
        record_path(lo + k, hi, m, out);
        out.push((lo, lo + k));
    }
}

/// RFC 6962 `SUBPROOF(m, D[lo:hi], b)` as ranges; `m` is relative to `lo`.
fn consistency_path(m: u64, lo: u64, hi: u64, b: bool, out: &mut Vec<(u64, u64)>) {
    let size = hi - lo;
    if m == size {
        if !b {
            out.push((lo, hi));
        }
        return;
    }
    let k = split_point(size);
    if m <= k {
        consistency_path(m, lo, lo + k, b, out);
        out.push((lo + k, hi));
    } else {
        consistency_path(m - k, lo + k, hi, false, out);
        out.push((lo, lo + k));
    }
}

/// Hashes of the given ranges, with a single batched read.
fn hash_ranges(ranges: &[(u64, u64)], reader: &impl HashReader) -> Result<Vec<Hash>, AuditError> {
    let per_range: Vec<Vec<u64>> = ranges
        .iter()
        .map(|&(lo, hi)| subtree_indexes(lo, hi))
        .collect();
    let all: Vec<u64> = per_range.iter().flatten().copied().collect();
    let hashes = read_exact(reader, &all)?;
    let mut rest = hashes.as_slice();
    Ok(per_range
        .iter()
        .map(|idx| {
            let (mine, tail) = rest.split_at(idx.len());
            rest = tail;
            fold_subtrees(mine)
        })
        .collect())
}

/// Root of `D[lo:hi]` implied by `proof` for leaf `n` with hash `leaf`.
fn run_record_proof(
    proof: &[Hash],
    lo: u64,
    hi: u64,
    n: u64,
    leaf: Hash,
) -> Result<Hash, AuditError> {
    if hi - lo == 1 {
        if !proof.is_empty() {
            return Err(AuditError::BadProof("inclusion proof is too long".into()));
        }
        return Ok(leaf);
    }
    let (sibling, rest) = proof
        .split_last()
        .ok_or_else(|| AuditError::BadProof("inclusion proof is too short".into()))?;
    let k = split_point(hi - lo);
    if n < lo + k {
        let left = run_record_proof(rest, lo, lo + k, n, leaf)?;
        Ok(node_hash(&left, sibling))
    } else {
        let right = run_record_proof(rest, lo + k, hi, n, leaf)?;
        Ok(node_hash(sibling, &right))
    }
}

/// Mirrors [`consistency_path`]: returns (hash of `D[lo:lo+m]`, hash of `D[lo:hi]`).
fn run_tree_proof(
    proof: &[Hash],
    m: u64,
    lo: u64,
    hi: u64,
    b: bool,
    old: &Hash,
) -> Result<(Hash, Hash), AuditError> {
    let size = hi - lo;
    if m == size {
        if b {
            // The old tree itself: its hash is the one being checked.
            if !proof.is_empty() {
                return Err(AuditError::BadProof("consistency proof is too long".into()));
            }
            return Ok((*old, *old));
        }
        return match proof {
            [only] => Ok((*only, *only)),
            [] => Err(AuditError::BadProof(
                "consistency proof is too short".into(),
            )),
            _ => Err(AuditError::BadProof("consistency proof is too long".into())),
        };
    }
    let (sibling, rest) = proof
        .split_last()
        .ok_or_else(|| AuditError::BadProof("consistency proof is too short".into()))?;
    let k = split_point(size);
    if m <= k {
        let (o, n) = run_tree_proof(rest, m, lo, lo + k, b, old)?;
        Ok((o, node_hash(&n, sibling)))
    } else {
        let (o, n) = run_tree_proof(rest, m - k, lo + k, hi, false, old)?;
        Ok((node_hash(sibling, &o), node_hash(sibling, &n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{record_hash, tree_hash, MemoryHashStore};

    /// RFC 6962 MTH computed directly from its recursive definition — an
    /// independent reference for the stored-hash machinery.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => crate::merkle::empty_tree_hash(),
            1 => leaves[0],
            len => {
                let k = split_point(len as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn store(n: u64) -> (MemoryHashStore, Vec<Hash>) {
        let mut s = MemoryHashStore::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let data = format!("record {i}");
            leaves.push(record_hash(data.as_bytes()));
            s.append(data.as_bytes()).unwrap();
        }
        (s, leaves)
    }

    #[test]
    fn tree_hash_matches_recursive_definition() {
        let (s, leaves) = store(130);
        for n in 0..=130u64 {
            assert_eq!(
                tree_hash(n, &s).unwrap(),
                mth(&leaves[..n as usize]),
                "n = {n}"
            );
        }
    }

    #[test]
    fn all_inclusion_and_consistency_proofs_small() {
        let (s, leaves) = store(70);
        for t in 1..=70u64 {
            let th = tree_hash(t, &s).unwrap();
            for n in 0..t {
                let p = prove_record(t, n, &s).unwrap();
                check_record(&p, t, &th, n, &leaves[n as usize]).unwrap();
                // Wrong leaf or wrong index must fail.
                let other = leaves[((n + 1) % t) as usize];
                if t > 1 {
                    assert!(check_record(&p, t, &th, n, &other).is_err());
                }
            }
            for n in 1..=t {
                let h = tree_hash(n, &s).unwrap();
                let p = prove_tree(t, n, &s).unwrap();
                check_tree(&p, t, &th, n, &h).unwrap();
            }
        }
    }

    #[test]
    fn proof_lengths_are_logarithmic() {
        let (s, _) = store(1000);
        let p = prove_record(1000, 517, &s).unwrap();
        assert!(p.len() <= 10, "{}", p.len());
        let p = prove_tree(1000, 517, &s).unwrap();
        assert!(p.len() <= 20, "{}", p.len());
    }

    #[test]
    fn bounds_are_rejected() {
        let (s, leaves) = store(4);
        assert!(prove_record(4, 4, &s).is_err());
        assert!(prove_tree(4, 0, &s).is_err());
        assert!(prove_tree(4, 5, &s).is_err());
        let th = tree_hash(4, &s).unwrap();
        assert!(check_record(&[], 4, &th, 4, &leaves[0]).is_err());
        assert!(check_tree(&[], 4, &th, 4, &leaves[0]).is_err());
        // A reader that lost hashes makes proving fail rather than lie.
        assert!(prove_record(8, 7, &s).is_err());
    }
}
