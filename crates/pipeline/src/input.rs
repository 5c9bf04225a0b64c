//! The input document given to Rego (documented in docs/policies.md), in two forms: built
//! directly as the policy engine's value for evaluation ([`value`], on the request path), and
//! as JSON for the decision log ([`build`], by the log writer). A test holds the two equal.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::LazyLock;

use sentinel_core::{
    Action, ActionKind, Agent, AgentStatus, QuotaState, Risk, Tenant, Tool, ToolKind,
};
use sentinel_policy::{Object, Value as Rego};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ScanFinding;

/// A string allocated once per process (object keys, enum names): most of the document's
/// strings are its keys.
macro_rules! key {
    ($name:literal) => {{
        static KEY: LazyLock<Rego> = LazyLock::new(|| Rego::from($name));
        KEY.clone()
    }};
}

/// An object with these fields. Its shape (the sorted keys, in the engine's compact storage) is
/// made once per process; each object is a copy of it with the values filled in, rather than a
/// map built, sorted and compacted anew.
macro_rules! object {
    ($($name:literal : $value:expr),+ $(,)?) => {{
        static SHAPE: LazyLock<Object> = LazyLock::new(|| {
            match Rego::from(BTreeMap::from([$((Rego::from($name), Rego::Null)),+])) {
                Rego::Object(o) => std::sync::Arc::unwrap_or_clone(o),
                _ => unreachable!("a map becomes an object"),
            }
        });
        let mut o = Object::clone(&SHAPE);
        // Every key is in the shape, so these only replace values (the storage stays compact).
        $({
            static KEY: LazyLock<Rego> = LazyLock::new(|| Rego::from($name));
            if let Some(slot) = o.get_mut(&KEY) {
                *slot = $value;
            }
        })+
        Rego::from(o)
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
    pub tenant: Arc<Tenant>,
    pub agent: Arc<Agent>,
    pub tool: Option<Arc<Tool>>,
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
            tool: self.tool.as_deref(),
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
    // As converting the whole JSON document did: a part that does not convert leaves no input
    // at all (so policy cannot decide, and the action is denied), never an input without it.
    let arguments = sentinel_policy::value_of(&a.arguments);
    let tool = p.tool.map(|t| TOOLS.with(|memo| memo.get(t.id, t, tool)));
    if arguments == Rego::Undefined || tool == Some(Rego::Undefined) {
        return Rego::Undefined;
    }
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

    let action = action(a, arguments);
    let tenant = TENANTS.with(|memo| {
        memo.get(p.tenant.id, p.tenant, |t| {
            object! {
                "id": uuid(t.id),
                "slug": string(&t.slug),
            }
        })
    });
    let agent = AGENTS.with(|memo| {
        memo.get(p.agent.id, p.agent, |g| {
            object! {
                "id": uuid(g.id),
                "name": string(&g.name),
                "framework": optional(&g.framework),
                "owner": optional(&g.owner),
                "labels": labels(&g.labels),
                "status": agent_status(g.status),
            }
        })
    });
    let scan = object! {
        "findings": Rego::from(p.findings.iter().map(finding).collect::<Vec<_>>()),
        "max_score": Rego::from(max_score),
    };
    let quota = p.quota.map_or(Rego::Null, quota);
    let session = object! {
        "id": optional(&a.session),
        "tainted": Rego::Bool(!untrusted.is_empty()),
        "untrusted_sources": Rego::from(untrusted),
    };
    let now = Rego::from(rfc3339(p.now));
    match tool {
        Some(tool) => object! {
            "action": action,
            "tenant": tenant,
            "agent": agent,
            "scan": scan,
            "quota": quota,
            "session": session,
            "now": now,
            "tool": tool,
        },
        None => object! {
            "action": action,
            "tenant": tenant,
            "agent": agent,
            "scan": scan,
            "quota": quota,
            "session": session,
            "now": now,
        },
    }
}

/// Registry records change rarely and decide every action they take part in: each thread keeps
/// the values it built for the latest version of each, and builds again when a record differs.
struct Memo<T> {
    built: HashMap<Uuid, (T, Rego)>,
}

/// Records per thread before the memo starts again (a bound, not a working-set estimate).
const MEMO_CAPACITY: usize = 1024;

impl<T: PartialEq + Clone> Memo<T> {
    fn new() -> RefCell<Memo<T>> {
        RefCell::new(Memo {
            built: HashMap::new(),
        })
    }
}

trait MemoCell<T> {
    fn get(&self, id: Uuid, record: &T, build: impl FnOnce(&T) -> Rego) -> Rego;
}

impl<T: PartialEq + Clone> MemoCell<T> for RefCell<Memo<T>> {
    fn get(&self, id: Uuid, record: &T, build: impl FnOnce(&T) -> Rego) -> Rego {
        let mut memo = self.borrow_mut();
        if let Some((seen, value)) = memo.built.get(&id) {
            if seen == record {
                return value.clone();
            }
        }
        let value = build(record);
        if memo.built.len() >= MEMO_CAPACITY {
            memo.built.clear();
        }
        memo.built.insert(id, (record.clone(), value.clone()));
        value
    }
}

thread_local! {
    static TENANTS: RefCell<Memo<Tenant>> = Memo::new();
    static AGENTS: RefCell<Memo<Agent>> = Memo::new();
    static TOOLS: RefCell<Memo<Tool>> = Memo::new();
}

fn action(a: &Action, arguments: Rego) -> Rego {
    let context = &a.context;
    let provenance: Vec<Rego> = context
        .provenance
        .iter()
        .map(|s| {
            object! {
                "source": string(&s.source),
                "trust": string(&s.trust),
            }
        })
        .collect();
    object! {
        "tenant": optional(&a.tenant),
        "agent": optional(&a.agent),
        "session": optional(&a.session),
        "kind": action_kind(a.kind),
        "target": object! {
            "tool": string(&a.target.tool),
            "server": optional(&a.target.server),
        },
        "arguments": arguments,
        "context": object! {
            "purpose": optional(&context.purpose),
            "labels": labels(&context.labels),
            "provenance": Rego::from(provenance),
        },
    }
}

/// `Undefined` when the metadata does not convert.
fn tool(t: &Tool) -> Rego {
    let metadata = sentinel_policy::value_of(&t.metadata);
    if metadata == Rego::Undefined {
        return Rego::Undefined;
    }
    object! {
        "id": uuid(t.id),
        "name": string(&t.name),
        "kind": tool_kind(t.kind),
        "server": optional(&t.server),
        "url": optional(&t.url),
        "owner": optional(&t.owner),
        "scopes": Rego::from(t.scopes.iter().map(|s| string(s)).collect::<Vec<_>>()),
        "risk": risk(t.risk),
        "metadata": metadata,
        "is_active": Rego::Bool(t.is_active),
    }
}

fn finding(f: &ScanFinding) -> Rego {
    object! {
        "detector": string(&f.detector),
        "rule": string(&f.rule),
        "path": optional(&f.path),
        // serde_json writes an f32 as the f64 it widens to; so does this.
        "score": Rego::from(f.score as f64),
        "severity": string(&f.severity),
    }
}

fn quota(q: &QuotaState) -> Rego {
    let (scope, limit, window, remaining) = (
        string(&q.scope),
        Rego::from(q.limit),
        Rego::from(q.window_seconds),
        Rego::from(q.remaining),
    );
    // `retry_after_seconds` is skipped when absent, as `QuotaState` serialises.
    match q.retry_after_seconds {
        Some(retry) => object! {
            "scope": scope,
            "limit": limit,
            "window_seconds": window,
            "remaining": remaining,
            "retry_after_seconds": Rego::from(retry),
        },
        None => object! {
            "scope": scope,
            "limit": limit,
            "window_seconds": window,
            "remaining": remaining,
        },
    }
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
        // serde's private name for an arbitrary-precision number: the engine reads such an
        // object as the number, and fails the whole document when it is not one.
        let mut odd = Vec::new();
        for number in ["12", "not a number"] {
            let mut a = action.clone();
            a.arguments["x"] = json!({"$serde_json::private::Number": number});
            odd.push(a);
        }
        for a in &odd {
            cases.push(InputParts {
                action: a,
                tenant: &tenant,
                agent: &agent,
                tool: Some(&tool),
                findings: &[],
                quota: None,
                now: ids::now(),
            });
        }
        let mut odd_tool = tool.clone();
        odd_tool.metadata = json!({"$serde_json::private::Number": "not a number"});
        cases.push(InputParts {
            action: &action,
            tenant: &tenant,
            agent: &agent,
            tool: Some(&odd_tool),
            findings: &[],
            quota: None,
            now: ids::now(),
        });
        assert_eq!(value(&cases[cases.len() - 1]), Rego::Undefined);
        // The memo builds again for a changed record.
        assert_ne!(value(&cases[cases.len() - 3]), Rego::Undefined);
        assert_eq!(value(&cases[cases.len() - 2]), Rego::Undefined);
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
