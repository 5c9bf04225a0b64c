//! in-toto Statement v1 (<https://github.com/in-toto/attestation>) with Sentinel's
//! provenance predicate, and its DSSE wrapping.
//!
//! For every approved and executed action Sentinel signs a statement whose
//! subjects are the action and its result (by SHA-256) and whose predicate
//! ([`ProvenancePredicate`], type [`PROVENANCE_PREDICATE_TYPE`]) says what was
//! done, under which policy, who approved it, what untrusted input it saw, and
//! where it sits in the audit log — so the manifest can be tied back to a signed
//! checkpoint with an inclusion proof.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::canonical_json;
use crate::dsse::{sign_envelope, verify_envelope, DsseSigner, DsseVerifier, Envelope};
use crate::error::{malformed, AuditError, Result};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// DSSE payload type for in-toto statements.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Predicate type of Sentinel action provenance, version 1.
pub const PROVENANCE_PREDICATE_TYPE: &str = "https://sentinel.dev/provenance/action/v1";

/// An in-toto resource descriptor reduced to what subjects need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Name of the artefact (`action`, `result`, …).
    pub name: String,
    /// Digest set: algorithm → lowercase hex.
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// A subject named `name` with the SHA-256 of `bytes`.
    pub fn sha256_of(name: impl Into<String>, bytes: &[u8]) -> Self {
        Self {
            name: name.into(),
            digest: BTreeMap::from([(
                "sha256".to_string(),
                hex::encode(crate::canonical::sha256(bytes)),
            )]),
        }
    }
}

/// An in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// URI of the predicate's schema.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate itself.
    pub predicate: Value,
}

/// One approval of the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// Who approved (user id or e-mail).
    pub who: String,
    /// When, RFC 3339 UTC.
    pub when: String,
}

/// A provenance label of an input the agent had seen (CaMeL-style taint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputLabel {
    /// Where the input came from, e.g. `tool:web.fetch`.
    pub source: String,
    /// `trusted` or `untrusted`.
    pub trust: String,
}

/// Where the action's decision sits in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReference {
    /// Log origin (the checkpoint's first line).
    pub origin: String,
    /// Entry index.
    pub index: u64,
    /// Base64 RFC 6962 leaf hash of the entry.
    pub leaf_hash: String,
    /// Signed checkpoint (note text) covering the entry.
    pub checkpoint: String,
    /// Base64 inclusion proof of the entry in that checkpoint's tree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inclusion_proof: Vec<String>,
}

/// Sentinel's action provenance predicate (v1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenancePredicate {
    /// The action, e.g. `tool_call:k8s.restart_pod`.
    pub action_type: String,
    /// Digest set of the canonical action parameters.
    pub parameters_digest: BTreeMap<String, String>,
    /// Policy revision that decided (`sha256:…`).
    pub policy_revision: String,
    /// Approvals granted for this execution.
    pub approvals: Vec<ApprovalRecord>,
    /// Provenance labels of inputs the session had seen.
    pub input_provenance: Vec<InputLabel>,
    /// The audit log position of the decision.
    pub audit: AuditReference,
}

impl Statement {
    /// A Sentinel provenance statement about `subjects`.
    pub fn provenance(subjects: Vec<Subject>, predicate: &ProvenancePredicate) -> Self {
        Self {
            statement_type: STATEMENT_TYPE.to_string(),
            subject: subjects,
            predicate_type: PROVENANCE_PREDICATE_TYPE.to_string(),
            predicate: serde_json::to_value(predicate).expect("the predicate always serialises"),
        }
    }

    /// The predicate parsed as Sentinel provenance (fails for other types).
    pub fn provenance_predicate(&self) -> Result<ProvenancePredicate> {
        if self.predicate_type != PROVENANCE_PREDICATE_TYPE {
            return Err(malformed(
                "statement",
                format!("predicate type {}", self.predicate_type),
            ));
        }
        Ok(serde_json::from_value(self.predicate.clone())?)
    }

    /// Signs the canonical JSON of this statement into a DSSE envelope.
    pub fn sign(&self, signer: &DsseSigner) -> Envelope {
        let payload =
            canonical_json(&serde_json::to_value(self).expect("a statement always serialises"));
        sign_envelope(INTOTO_PAYLOAD_TYPE, &payload, signer)
    }

    /// Verifies an envelope and returns the statement inside, checking the
    /// payload type, the statement type, and that subjects carry digests.
    pub fn verify_envelope(envelope: &Envelope, verifiers: &[DsseVerifier]) -> Result<Self> {
        if envelope.payload_type != INTOTO_PAYLOAD_TYPE {
            return Err(malformed(
                "statement envelope",
                format!("payload type {}", envelope.payload_type),
            ));
        }
        let payload = verify_envelope(envelope, verifiers)?;
        let st: Statement = serde_json::from_slice(&payload)?;
        if st.statement_type != STATEMENT_TYPE {
            return Err(malformed(
                "statement",
                format!("_type {}", st.statement_type),
            ));
        }
        if st.subject.is_empty() || st.subject.iter().any(|s| s.digest.is_empty()) {
            return Err(AuditError::InvalidInput(
                "statement subjects need digests".into(),
            ));
        }
        Ok(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    pub(crate) fn sample() -> Statement {
        let predicate = ProvenancePredicate {
            action_type: "tool_call:k8s.restart_pod".into(),
            parameters_digest: BTreeMap::from([("sha256".into(), "00".repeat(32))]),
            policy_revision: "sha256:abcd".into(),
            approvals: vec![ApprovalRecord {
                who: "alice@example.com".into(),
                when: "2025-06-01T12:00:00Z".into(),
            }],
            input_provenance: vec![InputLabel {
                source: "tool:web.fetch".into(),
                trust: "untrusted".into(),
            }],
            audit: AuditReference {
                origin: "sentinel.test/audit".into(),
                index: 41,
                leaf_hash: "AAAA".into(),
                checkpoint: "sentinel.test/audit\n42\nAAAA\n\n— x y\n".into(),
                inclusion_proof: vec![],
            },
        };
        Statement::provenance(
            vec![
                Subject::sha256_of("action", b"{\"a\":1}"),
                Subject::sha256_of("result", b"ok"),
            ],
            &predicate,
        )
    }

    #[test]
    fn statement_shape() {
        let v = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["_type"], STATEMENT_TYPE);
        assert_eq!(v["predicateType"], PROVENANCE_PREDICATE_TYPE);
        assert_eq!(v["predicate"]["actionType"], "tool_call:k8s.restart_pod");
        assert_eq!(v["predicate"]["audit"]["leafHash"], "AAAA");
        assert_eq!(
            v["subject"][1]["digest"]["sha256"].as_str().unwrap().len(),
            64
        );
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let s = DsseSigner::new(SigningKey::from_bytes(&[1; 32]));
        let st = sample();
        let env = st.sign(&s);
        assert_eq!(env.payload_type, INTOTO_PAYLOAD_TYPE);
        let back = Statement::verify_envelope(&env, &[s.verifier()]).unwrap();
        assert_eq!(back, st);
        assert_eq!(back.provenance_predicate().unwrap().audit.index, 41);
        let mut wrong = env.clone();
        wrong.payload_type = "application/json".into();
        assert!(Statement::verify_envelope(&wrong, &[s.verifier()]).is_err());
    }
}
