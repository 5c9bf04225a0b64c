//! The input document given to Rego (documented in docs/policies.md), in two forms: built
//! directly as the policy engine's value for evaluation ([`value`], on the request path), and
//! as JSON for the decision log ([`build`], by the log writer). A test holds the two equal.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use sentinel_core::{
    Action, ActionKind, Agent, AgentStatus, QuotaState, Risk, Tenant, Tool, ToolKind,
};
use sentinel_policy::Value as Rego;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::ScanFinding;

/// An object key, allocated once per process: most of the document's strings are its keys.
macro_rules! key {
    ($name:literal) => {{
        static KEY: LazyLock<Rego> = LazyLock::new(|| Rego::from($name));
        KEY.clone()
    }};
}

pub struct InputParts<'a> {
    pub action: &'a Action,
    pub tenant: &'a Tenant,
    pub agent: &'a Agent,
    pub tool: Option<&'a Tool>,
    pub findings: &'a [ScanFinding],
    pub quota: Option<&'a QuotaState>,
    pub now: OffsetDateTime,
}

/// What the input document is made of besides the action, owned: kept with a decision so the
/// log writer can write its input document later, off the request path.
pub struct InputFacts {
    pub tenant: Tenant,
    pub agent: Agent,
    pub tool: Option<Tool>,
    pub findings: Vec<ScanFinding>,
    pub quota: Option<QuotaState>,
    pub now: OffsetDateTime,
}

impl InputFacts {
    pub fn parts<'a>(&'a self, action: &'a Action) -> InputParts<'a> {
        InputParts {
            action,
            tenant: &self.tenant,
            agent: &self.agent,
            tool: self.tool.as_ref(),
            findings: &self.findings,
            quota: self.quota.as_ref(),
            now: self.now,
        }
    }
}

/// Builds the input document as JSON (never as JSON text to be parsed again): what the decision
/// log records, and what simulations replay.
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
        "now": rfc3339(p.now),
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

fn rfc3339(now: OffsetDateTime) -> String {
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Builds the same document as [`build`] directly as the policy engine's value: no JSON
/// document to build, convert and drop on the request path. Only the free-form parts (the
/// action's arguments, the tool's metadata) are converted from JSON, by reference.
pub fn value(p: &InputParts) -> Rego {
    let a = p.action;
    let mut untrusted = Vec::new();
    for s in &a.context.provenance {
        if s.trust != "trusted" {
            untrusted.push(string(&s.source));
        }
    }
    let mut max_score: BTreeMap<Rego, f64> = BTreeMap::new();
    for f in p.findings {
        // As `build`: each detector starts at 0.0 and keeps its highest score.
        let entry = max_score.entry(string(&f.detector)).or_insert(0.0);
        if f.score as f64 > *entry {
            *entry = f.score as f64;
        }
    }
    let max_score: BTreeMap<Rego, Rego> = max_score
        .into_iter()
        .map(|(k, v)| (k, Rego::from(v)))
        .collect();

    let mut input = BTreeMap::new();
    input.insert(key!("action"), action(a));
    input.insert(
        key!("tenant"),
        object([
            (key!("id"), uuid(p.tenant.id)),
            (key!("slug"), string(&p.tenant.slug)),
        ]),
    );
    let g = p.agent;
    input.insert(
        key!("agent"),
        object([
            (key!("id"), uuid(g.id)),
            (key!("name"), string(&g.name)),
            (key!("framework"), optional(&g.framework)),
            (key!("owner"), optional(&g.owner)),
            (key!("labels"), labels(&g.labels)),
            (key!("status"), agent_status(g.status)),
        ]),
    );
    input.insert(
        key!("scan"),
        object([
            (
                key!("findings"),
                Rego::from(p.findings.iter().map(finding).collect::<Vec<_>>()),
            ),
            (key!("max_score"), Rego::from(max_score)),
        ]),
    );
    input.insert(key!("quota"), p.quota.map_or(Rego::Null, quota));
    input.insert(
        key!("session"),
        object([
            (key!("id"), optional(&a.session)),
            (key!("tainted"), Rego::Bool(!untrusted.is_empty())),
            (key!("untrusted_sources"), Rego::from(untrusted)),
        ]),
    );
    input.insert(key!("now"), Rego::from(rfc3339(p.now)));
    if let Some(t) = p.tool {
        input.insert(
            key!("tool"),
            object([
                (key!("id"), uuid(t.id)),
                (key!("name"), string(&t.name)),
                (key!("kind"), tool_kind(t.kind)),
                (key!("server"), optional(&t.server)),
                (key!("url"), optional(&t.url)),
                (key!("owner"), optional(&t.owner)),
                (
                    key!("scopes"),
                    Rego::from(t.scopes.iter().map(|s| string(s)).collect::<Vec<_>>()),
                ),
                (key!("risk"), risk(t.risk)),
                (key!("metadata"), sentinel_policy::value_of(&t.metadata)),
                (key!("is_active"), Rego::Bool(t.is_active)),
            ]),
        );
    }
    Rego::from(input)
}

fn action(a: &Action) -> Rego {
    let context = &a.context;
    let provenance: Vec<Rego> = context
        .provenance
        .iter()
        .map(|s| {
            object([
                (key!("source"), string(&s.source)),
                (key!("trust"), string(&s.trust)),
            ])
        })
        .collect();
    object([
        (key!("tenant"), optional(&a.tenant)),
        (key!("agent"), optional(&a.agent)),
        (key!("session"), optional(&a.session)),
        (key!("kind"), action_kind(a.kind)),
        (
            key!("target"),
            object([
                (key!("tool"), string(&a.target.tool)),
                (key!("server"), optional(&a.target.server)),
            ]),
        ),
        (key!("arguments"), sentinel_policy::value_of(&a.arguments)),
        (
            key!("context"),
            object([
                (key!("purpose"), optional(&context.purpose)),
                (key!("labels"), labels(&context.labels)),
                (key!("provenance"), Rego::from(provenance)),
            ]),
        ),
    ])
}

fn finding(f: &ScanFinding) -> Rego {
    object([
        (key!("detector"), string(&f.detector)),
        (key!("rule"), string(&f.rule)),
        (key!("path"), optional(&f.path)),
        // serde_json writes an f32 as the f64 it widens to; so does this.
        (key!("score"), Rego::from(f.score as f64)),
        (key!("severity"), string(&f.severity)),
    ])
}

fn quota(q: &QuotaState) -> Rego {
    let mut o = BTreeMap::new();
    o.insert(key!("scope"), string(&q.scope));
    o.insert(key!("limit"), Rego::from(q.limit));
    o.insert(key!("window_seconds"), Rego::from(q.window_seconds));
    o.insert(key!("remaining"), Rego::from(q.remaining));
    // Skipped when absent, as `QuotaState` serialises.
    if let Some(s) = q.retry_after_seconds {
        o.insert(key!("retry_after_seconds"), Rego::from(s));
    }
    Rego::from(o)
}

fn object<const N: usize>(fields: [(Rego, Rego); N]) -> Rego {
    Rego::from(BTreeMap::from(fields))
}

fn string(s: &str) -> Rego {
    Rego::from(s)
}

fn optional(s: &Option<String>) -> Rego {
    s.as_deref().map_or(Rego::Null, string)
}

fn labels(labels: &BTreeMap<String, String>) -> Rego {
    Rego::from(
        labels
            .iter()
            .map(|(k, v)| (string(k), string(v)))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn uuid(id: uuid::Uuid) -> Rego {
    string(
        id.hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer()),
    )
}

// The enums as serde writes them (a test compares every variant).
fn action_kind(k: ActionKind) -> Rego {
    match k {
        ActionKind::ToolCall => key!("tool_call"),
        ActionKind::LlmRequest => key!("llm_request"),
        ActionKind::TelemetryEvent => key!("telemetry_event"),
        ActionKind::Remediation => key!("remediation"),
    }
}

fn agent_status(s: AgentStatus) -> Rego {
    match s {
        AgentStatus::Active => key!("active"),
        AgentStatus::Killed => key!("killed"),
    }
}

fn tool_kind(k: ToolKind) -> Rego {
    match k {
        ToolKind::Mcp => key!("mcp"),
        ToolKind::Http => key!("http"),
        ToolKind::Shell => key!("shell"),
        ToolKind::Llm => key!("llm"),
        ToolKind::Builtin => key!("builtin"),
    }
}

fn risk(r: Risk) -> Rego {
    match r {
        Risk::Safe => key!("safe"),
        Risk::Warning => key!("warning"),
        Risk::Critical => key!("critical"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_core::ids;

    fn fixture() -> (Action, Tenant, Agent, Tool) {
        let action: Action = serde_json::from_value(json!({
            "tenant": "acme", "agent": "sre-bot", "session": "s-1", "kind": "tool_call",
            "target": {"tool": "restart_kubernetes_pod", "server": "k8s-mcp"},
            "arguments": {
                "namespace": "prod", "replicas": 3, "ratio": 0.25, "force": false,
                "big": 12345678901234567890u64, "negative": -7, "nothing": null,
                "nested": {"list": [1, "two", {"three": 3.5}], "empty": {}},
            },
            "context": {
                "purpose": "fix the outage",
                "labels": {"ticket": "INC-1", "team": "sre"},
                "provenance": [
                    {"source": "user", "trust": "trusted"},
                    {"source": "web:example.com", "trust": "untrusted"},
                    {"source": "email", "trust": "unknown"},
                ],
            },
        }))
        .unwrap();
        let now = ids::now();
        let tenant = Tenant {
            id: ids::new_id(),
            slug: "acme".into(),
            display_name: "Acme".into(),
            created_at: now,
        };
        let agent = Agent {
            id: ids::new_id(),
            tenant_id: tenant.id,
            name: "sre-bot".into(),
            framework: Some("langgraph".into()),
            owner: None,
            description: Some("not in the input".into()),
            status: AgentStatus::Active,
            labels: [("team".to_string(), "sre".to_string())].into(),
            created_at: now,
            updated_at: now,
        };
        let tool = Tool {
            id: ids::new_id(),
            tenant_id: tenant.id,
            name: "restart_kubernetes_pod".into(),
            kind: ToolKind::Mcp,
            server: Some("k8s-mcp".into()),
            url: None,
            owner: Some("platform".into()),
            scopes: vec!["k8s:write".into(), "k8s:read".into()],
            risk: Risk::Warning,
            metadata: json!({"runbook": "https://runbooks/pods", "tier": 1, "tags": ["a"]}),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        (action, tenant, agent, tool)
    }

    fn findings() -> Vec<ScanFinding> {
        let f = |detector: &str, rule: &str, path: Option<&str>, score: f32| ScanFinding {
            detector: detector.into(),
            rule: rule.into(),
            path: path.map(String::from),
            score,
            severity: "high".into(),
        };
        vec![
            f("secrets", "github-pat", Some("$.arguments.token"), 0.97),
            f("injection", "ignore-previous", None, 0.3),
            f("injection", "role-play", Some("$.context.purpose"), 0.9),
            f("pii", "email", Some("$.arguments.to"), 0.0),
        ]
    }

    /// The directly built value is the JSON document, converted: the shape cannot drift.
    #[test]
    fn the_value_is_the_json_document() {
        let (action, tenant, agent, tool) = fixture();
        let findings = findings();
        let quotas = [
            QuotaState {
                scope: "tool:restart_kubernetes_pod".into(),
                limit: 10,
                window_seconds: 60,
                remaining: 0,
                retry_after_seconds: Some(12),
            },
            QuotaState {
                scope: "tenant".into(),
                limit: 1000,
                window_seconds: 3600,
                remaining: 999,
                retry_after_seconds: None,
            },
        ];
        let mut cases = Vec::new();
        for quota in [None, Some(&quotas[0]), Some(&quotas[1])] {
            for tool in [None, Some(&tool)] {
                for findings in [&findings[..], &[]] {
                    cases.push(InputParts {
                        action: &action,
                        tenant: &tenant,
                        agent: &agent,
                        tool,
                        findings,
                        quota,
                        now: ids::now(),
                    });
                }
            }
        }
        let bare: Action =
            serde_json::from_value(json!({"kind": "llm_request", "target": {"tool": "chat"}}))
                .unwrap();
        cases.push(InputParts {
            action: &bare,
            tenant: &tenant,
            agent: &agent,
            tool: None,
            findings: &[],
            quota: None,
            now: ids::now(),
        });
        for parts in &cases {
            let document = build(parts);
            let value = value(parts);
            assert_eq!(value, sentinel_policy::value_of(&document), "{document:#}");
        }
        // The way back is not exact (the engine's numbers write a score of 0.0 as 0), which is
        // why the decision log records the JSON document rather than the engine's value.
        let full = build(&cases[6]);
        assert_eq!(
            full["session"]["untrusted_sources"],
            json!(["web:example.com", "email"])
        );
        assert_eq!(full["scan"]["max_score"]["injection"], json!(0.9f32));
        assert_eq!(full["quota"]["retry_after_seconds"], 12);
        assert_eq!(full["tool"]["kind"], "mcp");
    }

    #[test]
    fn enums_are_written_as_serde_writes_them() {
        let same = |value: Rego, serde: Value| assert_eq!(value, sentinel_policy::value_of(&serde));
        for k in [
            ActionKind::ToolCall,
            ActionKind::LlmRequest,
            ActionKind::TelemetryEvent,
            ActionKind::Remediation,
        ] {
            same(action_kind(k), json!(k));
        }
        for s in [AgentStatus::Active, AgentStatus::Killed] {
            same(agent_status(s), json!(s));
        }
        for k in [
            ToolKind::Mcp,
            ToolKind::Http,
            ToolKind::Shell,
            ToolKind::Llm,
            ToolKind::Builtin,
        ] {
            same(tool_kind(k), json!(k));
        }
        for r in [Risk::Safe, Risk::Warning, Risk::Critical] {
            same(risk(r), json!(r));
        }
    }
}
