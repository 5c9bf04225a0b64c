//! The inventory Sentinel governs: tenants, the agents that act, the tools they act with, and the
//! API keys that identify callers. Records are what the store returns; `New*` and `*Patch` are
//! what callers send to create and change them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::roles::Role;

/// An isolated customer or team. Every other record belongs to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    pub id: Uuid,
    /// Short unique name used in URLs, e.g. `acme`.
    pub slug: String,
    pub display_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub slug: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub display_name: Option<String>,
}

/// Whether an agent may act. `killed` agents are denied by the pipeline until restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Active,
    Killed,
}

/// An AI agent that acts through Sentinel (a LangGraph graph, a Claude Code session, a bot…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Unique within the tenant, e.g. `sre-bot`.
    pub name: String,
    /// The framework the agent runs on, e.g. `langgraph`.
    pub framework: Option<String>,
    /// Who answers for the agent, e.g. a team or an e-mail address.
    pub owner: Option<String>,
    pub description: Option<String>,
    pub status: AgentStatus,
    pub labels: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    pub name: String,
    #[serde(default)]
    pub framework: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    pub framework: Option<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
}

/// How a tool is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolKind {
    Mcp,
    Http,
    Shell,
    Llm,
    Builtin,
}

/// How much harm a tool can do. Ordered: `Safe < Warning < Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Safe,
    Warning,
    Critical,
}

/// Something an agent can call: an MCP tool, an HTTP API, a shell command, an LLM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tool {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Unique within the tenant and server, e.g. `k8s.restart_pod`.
    pub name: String,
    pub kind: ToolKind,
    /// The MCP server that provides it, when there is one.
    pub server: Option<String>,
    /// Where an HTTP tool is reached.
    pub url: Option<String>,
    pub owner: Option<String>,
    /// Permissions the tool needs or grants, e.g. `k8s:write`.
    pub scopes: Vec<String>,
    pub risk: Risk,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub is_active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTool {
    pub name: String,
    pub kind: ToolKind,
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Defaults to `critical`: a tool nobody has assessed is treated as the most dangerous.
    #[serde(default = "default_risk")]
    pub risk: Risk,
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn default_risk() -> Risk {
    Risk::Critical
}
fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolPatch {
    pub kind: Option<ToolKind>,
    pub server: Option<String>,
    pub url: Option<String>,
    pub owner: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub risk: Option<Risk>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    pub is_active: Option<bool>,
}

/// An API key as stored: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    /// Public part of the key, also shown inside the key itself (`snt_<id>_…`).
    pub id: Uuid,
    /// `None` for admin keys, which span all tenants.
    pub tenant_id: Option<Uuid>,
    pub role: Role,
    /// The agent an `agent` key acts as.
    pub agent_id: Option<Uuid>,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: [u8; 32],
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub role: Role,
    /// Required for `agent` keys: the agent's name or id.
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// The answer to creating a key: the only time the secret is ever shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedApiKey {
    pub key: ApiKey,
    /// The full secret. Store it now: Sentinel keeps only its hash.
    pub secret: String,
}
