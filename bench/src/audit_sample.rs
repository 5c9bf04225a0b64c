//! The audit entry the audit benchmarks append: a decision's, of a typical size.

use sentinel_audit::entry::EntryKind;
use sentinel_pipeline::NewEntry;

/// The `i`th entry; `i` makes each one's digest (and so its hash) different.
pub fn entry(i: u64) -> NewEntry {
    NewEntry {
        tenant: None,
        actor: "agent:bench".into(),
        kind: EntryKind::Decision,
        agent: Some("bench".into()),
        tool: Some("query_metrics".into()),
        outcome: Some("allow".into()),
        policy_revision: Some(format!("sha256:{:064x}", 7)),
        request_digest: Some(format!("sha256:{i:064x}")),
        details: serde_json::json!({"decision_id": i, "outcome": "allow", "reasons": [], "risk": "safe"}),
    }
}
