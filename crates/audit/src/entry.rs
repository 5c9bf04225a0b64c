//! One audit log entry and its canonical bytes.
//!
//! Every decision, approval event, kill/restore, policy activation, key change and
//! reported execution result becomes one [`AuditEntry`]. The bytes that are hashed
//! into the Merkle tree — and exported, one per NDJSON line — are its RFC 8785
//! canonical JSON ([`AuditEntry::to_canonical_bytes`]). An entry is at most
//! [`MAX_ENTRY_BYTES`]; a larger one keeps its envelope but its `details` are
//! replaced by `{"digest": "sha256:…", "size": N, "truncated": true}`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::canonical::{canonical_json, sha256_label};
use crate::error::Result;
use crate::merkle::{record_hash, Hash};
use crate::redact::SecretRedactor;

/// Largest canonical entry, in bytes (64 KiB).
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryKind {
    /// A pipeline decision (allow, deny, approval_required).
    Decision,
    /// An approval event (requested, approved, denied, expired, cancelled).
    Approval,
    /// A kill switch was engaged.
    Kill,
    /// A kill switch was lifted.
    Restore,
    /// A policy bundle revision became active.
    PolicyActivation,
    /// A signing or HMAC key was created, rotated or retired.
    KeyChange,
    /// An adapter reported the result of an executed action.
    ExecutionResult,
    /// A provenance manifest was signed for an executed action.
    ProvenanceManifest,
    /// An operator changed a tenant's configuration (webhooks created, changed or deleted).
    Configuration,
}

/// One record of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 0, without gaps.
    pub seq: u64,
    /// When the entry was sequenced, RFC 3339 in UTC (`2025-01-02T03:04:05.678Z`).
    pub time: String,
    /// Tenant the entry belongs to; `None` for global events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Who caused it: an agent id, a user, or `system`.
    pub actor: String,
    /// What kind of event this is.
    pub kind: EntryKind,
    /// Active policy revision (`sha256:…`), when a policy was involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_revision: Option<String>,
    /// Digest of the request/action the entry is about (`sha256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_digest: Option<String>,
    /// Kind-specific payload (decision, approval record, …), secrets redacted.
    pub details: Value,
}

impl AuditEntry {
    /// The RFC 8785 bytes that go into the tree, with oversized `details`
    /// replaced by their digest so the result stays within [`MAX_ENTRY_BYTES`]
    /// (unless the envelope fields alone exceed it).
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        let bytes = canonical_json(&self.to_value());
        if bytes.len() <= MAX_ENTRY_BYTES {
            return bytes;
        }
        let details = canonical_json(&self.details);
        let mut bounded = self.clone();
        bounded.details = json!({
            "digest": sha256_label(&details),
            "size": details.len(),
            "truncated": true,
        });
        canonical_json(&bounded.to_value())
    }

    /// The RFC 6962 leaf hash of this entry.
    pub fn leaf_hash(&self) -> Hash {
        record_hash(&self.to_canonical_bytes())
    }

    /// Parses an entry from its exported (canonical) bytes.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Replaces secrets in `details` with keyed hashes (see [`SecretRedactor`]).
    pub fn redact(&mut self, redactor: &SecretRedactor) {
        redactor.redact(&mut self.details);
    }

    fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("an AuditEntry always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            seq: 7,
            time: "2025-01-02T03:04:05Z".into(),
            tenant: Some("acme".into()),
            actor: "sre-bot".into(),
            kind: EntryKind::PolicyActivation,
            policy_revision: Some("sha256:ab".into()),
            request_digest: None,
            details: json!({"z": 1, "a": [true, null]}),
        }
    }

    #[test]
    fn canonical_bytes_are_sorted_and_compact() {
        let got = String::from_utf8(entry().to_canonical_bytes()).unwrap();
        assert_eq!(
            got,
            r#"{"actor":"sre-bot","details":{"a":[true,null],"z":1},"kind":"policy_activation","policy_revision":"sha256:ab","seq":7,"tenant":"acme","time":"2025-01-02T03:04:05Z"}"#
        );
    }

    #[test]
    fn round_trip_through_bytes() {
        let e = entry();
        let back = AuditEntry::from_canonical_bytes(&e.to_canonical_bytes()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.leaf_hash(), e.leaf_hash());
    }

    #[test]
    fn oversized_details_become_a_digest() {
        let mut e = entry();
        let big = "x".repeat(MAX_ENTRY_BYTES);
        e.details = json!({ "blob": big });
        let details_bytes = canonical_json(&e.details);
        let bytes = e.to_canonical_bytes();
        assert!(bytes.len() <= MAX_ENTRY_BYTES);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["details"]["truncated"], json!(true));
        assert_eq!(v["details"]["size"], json!(details_bytes.len()));
        assert_eq!(v["details"]["digest"], json!(sha256_label(&details_bytes)));
        assert_eq!(v["seq"], json!(7));
    }

    #[test]
    fn entry_just_at_the_limit_is_kept() {
        let mut e = entry();
        e.details = json!("");
        let overhead = e.to_canonical_bytes().len();
        e.details = json!("y".repeat(MAX_ENTRY_BYTES - overhead));
        assert_eq!(e.to_canonical_bytes().len(), MAX_ENTRY_BYTES);
        assert!(e.details.is_string());
        e.details = json!("y".repeat(MAX_ENTRY_BYTES - overhead + 1));
        assert!(e.to_canonical_bytes().len() < MAX_ENTRY_BYTES);
    }

    #[test]
    fn kinds_are_snake_case() {
        assert_eq!(
            serde_json::to_value(EntryKind::ExecutionResult).unwrap(),
            json!("execution_result")
        );
        assert_eq!(
            serde_json::to_value(EntryKind::KeyChange).unwrap(),
            json!("key_change")
        );
        assert_eq!(
            serde_json::to_value(EntryKind::Configuration).unwrap(),
            json!("configuration")
        );
    }
}
