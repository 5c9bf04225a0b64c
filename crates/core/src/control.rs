//! Controls that cut across enforcement points: kill switches and policy revisions.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a kill switch stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KillScope {
    /// Every action in the tenant.
    Tenant,
    /// One agent, by name.
    Agent,
    /// One tool, by name.
    Tool,
    /// One session, by id.
    Session,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Kill {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub scope: KillScope,
    /// The agent, tool or session name; the tenant's slug for tenant scope.
    pub target: String,
    pub reason: String,
    /// The key that activated it.
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub lifted_at: Option<OffsetDateTime>,
}

/// A recorded decision (the OPA decision-log shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DecisionRecord {
    pub decision_id: Uuid,
    pub tenant_id: Uuid,
    pub agent: String,
    pub tool: String,
    pub outcome: String,
    pub revision: String,
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// How long the pipeline took to decide (identify, scan, evaluate), in microseconds; with
    /// strict audit, not counting the audit commit that follows.
    pub duration_us: u64,
}

/// A stored policy revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyRevision {
    pub revision: String,
    #[schema(value_type = Object)]
    pub bundle: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyActivation {
    pub revision: String,
    pub activated_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub activated_at: OffsetDateTime,
}
