//! What a policy decided.

use sentinel_core::Risk;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allow,
    Deny,
    ApprovalRequired,
}

/// The policy's part of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub reasons: Vec<String>,
    pub risk: Risk,
    /// JSON paths the enforcement point must redact.
    pub redact: Vec<String>,
    /// How many distinct operators must approve a held action (1 to 10).
    pub approvers: u32,
    /// How long a held action waits for an answer; `None` for the server's default.
    pub approval_ttl_seconds: Option<u32>,
}

impl Verdict {
    /// Reads `data.sentinel.decision`; anything unexpected is an error, so callers deny.
    pub fn from_value(v: &serde_json::Value) -> Result<Verdict, String> {
        let outcome = serde_json::from_value(v["outcome"].clone()).map_err(|_| {
            format!(
                "outcome {} is not allow, deny or approval_required",
                v["outcome"]
            )
        })?;
        let risk = serde_json::from_value(v["risk"].clone())
            .map_err(|_| format!("risk {} is not safe, warning or critical", v["risk"]))?;
        let strings = |x: &serde_json::Value, what: &str| -> Result<Vec<String>, String> {
            x.as_array()
                .ok_or_else(|| format!("{what} is not a list"))?
                .iter()
                .map(|m| match m {
                    serde_json::Value::String(s) => Ok(s.clone()),
                    other => Ok(other.to_string()),
                })
                .collect()
        };
        let settings = &v["approval"];
        let approvers = match &settings["approvers"] {
            serde_json::Value::Null => 1,
            n => n.as_u64().filter(|n| (1..=10).contains(n)).ok_or_else(|| {
                format!("approval.approvers {n} is not a whole number from 1 to 10")
            })? as u32,
        };
        let approval_ttl_seconds = match &settings["ttl_seconds"] {
            serde_json::Value::Null => None,
            n => Some(
                n.as_u64()
                    .filter(|n| (1..=7 * 86_400).contains(n))
                    .ok_or_else(|| format!("approval.ttl_seconds {n} is not from 1 to 604800"))?
                    as u32,
            ),
        };
        Ok(Verdict {
            approvers,
            approval_ttl_seconds,
            outcome,
            risk,
            reasons: strings(&v["reasons"], "reasons")?,
            redact: strings(&v["obligations"]["redact"], "obligations.redact")?,
        })
    }
}
