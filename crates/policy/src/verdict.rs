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
        Ok(Verdict {
            outcome,
            risk,
            reasons: strings(&v["reasons"], "reasons")?,
            redact: strings(&v["obligations"]["redact"], "obligations.redact")?,
        })
    }
}
