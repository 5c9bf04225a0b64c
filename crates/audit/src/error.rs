//! The crate's one error type.
//!
//! Every fallible function in `sentinel-audit` returns [`AuditError`]. Verification
//! failures that can be pinned to an entry carry its index ([`AuditError::BadEntry`]),
//! so `sentinel audit verify` can tell an auditor where a log was tampered with.

use thiserror::Error;

/// Everything that can go wrong while building, proving or verifying the audit log.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A caller passed arguments that make no sense (index out of range, empty name, …).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A [`HashReader`](crate::merkle::HashReader) could not supply the hashes asked for.
    #[error("hash storage: {0}")]
    HashStorage(String),
    /// An inclusion or consistency proof does not verify.
    #[error("proof does not verify: {0}")]
    BadProof(String),
    /// A signed note, checkpoint or key string is not well formed.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being parsed ("signed note", "checkpoint", "verifier key", …).
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A signature (note or DSSE) does not verify, or no trusted key signed.
    #[error("signature: {0}")]
    Signature(String),
    /// An exported log does not match its signed checkpoint; `index` is the first
    /// entry position (0-based) that is wrong, missing or out of place.
    #[error("log entry {index}: {reason}")]
    BadEntry {
        /// First bad position in the exported log.
        index: u64,
        /// What is wrong there.
        reason: String,
    },
    /// The log does not hash to the checkpoint's root and no authenticated leaf
    /// hashes were supplied to locate the first bad entry.
    #[error("log root does not match the checkpoint: {0}")]
    RootMismatch(String),
    /// Reading or writing a key file failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// JSON (de)serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = AuditError> = std::result::Result<T, E>;

pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> AuditError {
    AuditError::Malformed {
        what,
        reason: reason.into(),
    }
}
