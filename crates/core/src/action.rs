//! The contracts of the pipeline: the [`Action`] every enforcement point produces and the
//! [`Decision`] it gets back (DESIGN.md, "Action" and "Decision").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Risk;

/// Something an agent wants to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Filled from the key; when sent, it must match the key's tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Filled from the key; when sent, it must match the key's agent.
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    pub kind: ActionKind,
    pub target: Target,
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub arguments: serde_json::Value,
    #[serde(default)]
    pub context: ActionContext,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    ToolCall,
    LlmRequest,
    TelemetryEvent,
    Remediation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub tool: String,
    #[serde(default)]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionContext {
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub provenance: Vec<Provenance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub source: String,
    pub trust: String,
}

/// The pipeline's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    pub decision_id: uuid::Uuid,
    pub outcome: Outcome,
    pub reasons: Vec<String>,
    pub risk: Risk,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<uuid::Uuid>,
    pub obligations: Obligations,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyRef>,
    /// Where the decision sits in the audit log: it was durable before this answer was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditRef {
    pub index: u64,
    /// RFC 6962 leaf hash of the entry, base64 (as Go's `sumdb/tlog` writes hashes).
    pub leaf_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allow,
    Deny,
    ApprovalRequired,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::ApprovalRequired => "approval_required",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Obligations {
    /// JSON paths (`$.arguments.token`) the enforcement point must redact.
    pub redact: Vec<String>,
}

/// The tightest quota that applies to the action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuotaState {
    /// Which quota: `tenant`, `agent:NAME` or `tool:NAME`.
    pub scope: String,
    pub limit: u32,
    pub window_seconds: u32,
    pub remaining: u32,
    /// When exhausted: seconds until the next action is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyRef {
    pub bundle: String,
    pub revision: String,
}

impl crate::validate::Validate for Action {
    fn validate(&self) -> Result<(), crate::validate::FieldError> {
        crate::validate::name("target.tool", &self.target.tool)?;
        crate::validate::text("target.server", &self.target.server)?;
        crate::validate::text("session", &self.session)?;
        crate::validate::text("context.purpose", &self.context.purpose)?;
        crate::validate::labels("context.labels", &self.context.labels)?;
        if self.context.provenance.len() > 64 {
            return Err(crate::validate::FieldError {
                field: "context.provenance".into(),
                message: "at most 64 provenance labels".into(),
            });
        }
        if !self.arguments.is_object() {
            return Err(crate::validate::FieldError {
                field: "arguments".into(),
                message: "must be a JSON object".into(),
            });
        }
        Ok(())
    }
}
