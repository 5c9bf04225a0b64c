//! Sentinel's tamper-evident audit log, as a pure, storage-independent core.
//!
//! Every governance event becomes an [`entry::AuditEntry`], hashed as RFC 8785
//! canonical JSON into an RFC 6962 Merkle tree ([`merkle`]) kept in the stored-hash
//! layout of Go's `sumdb/tlog`, so any proof costs O(log n) reads from one table.
//! The tree head is published as a C2SP tlog checkpoint ([`checkpoint`]) signed as
//! a C2SP signed note ([`note`]); executed actions get DSSE-signed in-toto
//! statements ([`dsse`], [`intoto`]). An auditor verifies an export offline with
//! [`verify`] — or with Go's `sumdb/note` + `sumdb/tlog` and Python's
//! `securesystemslib` + `in-toto-attestation`, which the interop tests run.
//!
//! Storage plugs in through [`merkle::HashReader`]; nothing here does I/O except
//! the key file helpers on [`note::NoteSigner`].
//!
//! ```
//! use sentinel_audit::checkpoint::{Checkpoint, NoteSigner};
//! use sentinel_audit::entry::{AuditEntry, EntryKind};
//! use sentinel_audit::merkle::{check_record, prove_record, MemoryHashStore};
//! use sentinel_audit::verify::verify_export;
//!
//! # fn main() -> Result<(), sentinel_audit::AuditError> {
//! let signer = NoteSigner::generate("sentinel.example.com/audit")?;
//! let mut tree = MemoryHashStore::new();
//! let mut export = Vec::new();
//! for seq in 0..3 {
//!     let entry = AuditEntry {
//!         seq,
//!         time: "2025-06-01T12:00:00Z".into(),
//!         tenant: Some("acme".into()),
//!         actor: "sre-bot".into(),
//!         kind: EntryKind::Decision,
//!         policy_revision: Some("sha256:5e1f".into()),
//!         request_digest: None,
//!         details: serde_json::json!({"outcome": "allow"}),
//!     };
//!     let bytes = entry.to_canonical_bytes();
//!     tree.append(&bytes)?;
//!     export.push(bytes);
//! }
//!
//! // Publish a signed checkpoint…
//! let note = Checkpoint::new(signer.name(), tree.len(), tree.root()?).sign(&signer)?;
//! // …prove that entry 1 is in it…
//! let proof = prove_record(tree.len(), 1, &tree)?;
//! let leaf = sentinel_audit::merkle::record_hash(&export[1]);
//! check_record(&proof, tree.len(), &tree.root()?, 1, &leaf)?;
//! // …and let an auditor check the whole export with the public key.
//! let verified = verify_export(&export, None, &note, &signer.verifier())?;
//! assert_eq!(verified.verified_entries, 3);
//! # Ok(())
//! # }
//! ```

pub mod canonical;
pub mod checkpoint;
pub mod dsse;
pub mod entry;
pub mod error;
pub mod intoto;
pub mod merkle;
pub mod note;
pub mod redact;
pub mod verify;

pub use error::{AuditError, Result};
