//! The input document given to Rego (documented in docs/policies.md).

use sentinel_core::{Action, Agent, QuotaState, Tenant, Tool};
use serde_json::{json, Value};

use crate::ScanFinding;

pub struct InputParts<'a> {
    pub action: &'a Action,
    pub tenant: &'a Tenant,
    pub agent: &'a Agent,
    pub tool: Option<&'a Tool>,
    pub findings: &'a [ScanFinding],
    pub quota: Option<&'a QuotaState>,
    pub now: time::OffsetDateTime,
}

/// Builds the input document as a value (never as JSON text to be parsed again).
pub fn build(p: &InputParts) -> Value {
    let untrusted: Vec<&str> = p
        .action
        .context
        .provenance
        .iter()
        .filter(|s| s.trust != "trusted")
        .map(|s| s.source.as_str())
        .collect();
    let mut max_score = serde_json::Map::new();
    for f in p.findings {
        let entry = max_score.entry(f.detector.clone()).or_insert(json!(0.0));
        if f.score as f64 > entry.as_f64().unwrap_or(0.0) {
            *entry = json!(f.score);
        }
    }
    let mut input = json!({
        "action": p.action,
        "tenant": {"id": p.tenant.id, "slug": p.tenant.slug},
        "agent": {
            "id": p.agent.id, "name": p.agent.name, "framework": p.agent.framework,
            "owner": p.agent.owner, "labels": p.agent.labels, "status": p.agent.status,
        },
        "scan": {"findings": p.findings, "max_score": max_score},
        "quota": p.quota,
        "session": {
            "id": p.action.session,
            "tainted": !untrusted.is_empty(),
            "untrusted_sources": untrusted,
        },
        "now": p.now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    });
    if let Some(t) = p.tool {
        input["tool"] = json!({
            "id": t.id, "name": t.name, "kind": t.kind, "server": t.server, "url": t.url,
            "owner": t.owner, "scopes": t.scopes, "risk": t.risk, "metadata": t.metadata,
            "is_active": t.is_active,
        });
    }
    input
}
