//! Offline verification of an exported log: what `sentinel audit verify` runs.
//!
//! Inputs: the exported entries (canonical bytes, one NDJSON line each, in
//! sequence order), a signed checkpoint, and the log's verifier key — plus,
//! optionally, the exported leaf hashes (one base64 hash per line, the level-0
//! rows of `audit_hashes`).
//!
//! The checkpoint signature is checked first, then every entry: it must parse,
//! be in canonical form, carry `seq` equal to its position, and — when leaf
//! hashes are supplied *and* they reproduce the signed root, which authenticates
//! every one of them — hash to the authenticated leaf at its position. Finally
//! the tree is recomputed from the entries and compared with the checkpoint.
//!
//! Failures name the first bad position ([`AuditError::BadEntry`]): a changed
//! field, a deleted, swapped or inserted row, or a truncated log. Without
//! authenticated leaf hashes a change that keeps every `seq` in place can only be
//! reported as [`AuditError::RootMismatch`]: the signed root alone cannot say
//! which entry differs.

use std::io::BufRead;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::canonical::canonical_json;
use crate::checkpoint::{Checkpoint, NoteVerifier};
use crate::error::{malformed, AuditError, Result};
use crate::merkle::{record_hash, tree_hash, Hash, MemoryHashStore};

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLog {
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
    /// Entries `0..checkpoint.size` verified against it.
    pub verified_entries: u64,
    /// Entries after the checkpoint's size, present but not covered by it.
    pub unverified_tail: u64,
    /// Whether the supplied leaf hashes matched the checkpoint and were used to
    /// check each entry individually.
    pub leaf_hashes_authenticated: bool,
}

/// Verifies exported entries against a signed checkpoint.
///
/// `leaf_hashes` (optional) lets a content change be pinned to its entry; if they
/// do not reproduce the signed root they are ignored (they prove nothing).
pub fn verify_export<I, L>(
    entries: I,
    leaf_hashes: Option<&[Hash]>,
    signed_checkpoint: &str,
    verifier: &NoteVerifier,
) -> Result<VerifiedLog>
where
    I: IntoIterator<Item = L>,
    L: AsRef<[u8]>,
{
    let checkpoint = Checkpoint::verify_signed(signed_checkpoint, verifier)?;
    let size = checkpoint.size;
    let authenticated = leaf_hashes.and_then(|l| authenticate(l, &checkpoint));

    let mut tree = MemoryHashStore::new();
    let mut count = 0u64;
    for line in entries {
        let i = count;
        count += 1;
        if i >= size {
            continue; // appended after the checkpoint: not covered by it
        }
        let bytes = line.as_ref();
        check_entry(i, bytes)?;
        let leaf = record_hash(bytes);
        if let Some(auth) = authenticated {
            if auth[i as usize] != leaf {
                return Err(AuditError::BadEntry {
                    index: i,
                    reason: "entry differs from the one the checkpoint signed".into(),
                });
            }
        }
        tree.append_record_hash(leaf)?;
    }
    if count < size {
        return Err(AuditError::BadEntry {
            index: count,
            reason: format!("log ends after {count} entries but the checkpoint covers {size}"),
        });
    }
    if tree_hash(size, &tree)? != checkpoint.root_hash {
        return Err(AuditError::RootMismatch(format!(
            "the {size} entries do not hash to the checkpoint root; supply the exported \
             leaf hashes to locate the first changed entry"
        )));
    }
    Ok(VerifiedLog {
        verified_entries: size,
        unverified_tail: count - size,
        leaf_hashes_authenticated: authenticated.is_some(),
        checkpoint,
    })
}

/// [`verify_export`] reading NDJSON from `reader` (a trailing newline is fine).
pub fn verify_ndjson(
    reader: impl BufRead,
    leaf_hashes: Option<&[Hash]>,
    signed_checkpoint: &str,
    verifier: &NoteVerifier,
) -> Result<VerifiedLog> {
    let mut lines = Vec::new();
    for line in reader.split(b'\n') {
        lines.push(line?);
    }
    verify_export(lines, leaf_hashes, signed_checkpoint, verifier)
}

/// Parses an exported leaf hash list: one base64 hash per line.
pub fn parse_leaf_hashes(text: &str) -> Result<Vec<Hash>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| {
            let raw = B64
                .decode(l.trim())
                .map_err(|e| malformed("leaf hash list", format!("line {}: {e}", i + 1)))?;
            raw.try_into()
                .map_err(|_| malformed("leaf hash list", format!("line {}: not 32 bytes", i + 1)))
        })
        .collect()
}

/// The leaf hashes if the first `size` of them reproduce the signed root.
fn authenticate<'a>(leaves: &'a [Hash], checkpoint: &Checkpoint) -> Option<&'a [Hash]> {
    let size = usize::try_from(checkpoint.size).ok()?;
    let leaves = leaves.get(..size)?;
    let mut tree = MemoryHashStore::new();
    for leaf in leaves {
        tree.append_record_hash(*leaf).ok()?;
    }
    (tree.root().ok()? == checkpoint.root_hash).then_some(leaves)
}

/// Position-independent checks of one exported line.
fn check_entry(i: u64, bytes: &[u8]) -> Result<()> {
    let bad = |reason: String| AuditError::BadEntry { index: i, reason };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    match value.get("seq").and_then(serde_json::Value::as_u64) {
        Some(seq) if seq == i => {}
        Some(seq) => return Err(bad(format!("sequence number {seq} where {i} belongs"))),
        None => return Err(bad("no sequence number".into())),
    }
    if canonical_json(&value) != bytes {
        return Err(bad("not in RFC 8785 canonical form".into()));
    }
    Ok(())
}
