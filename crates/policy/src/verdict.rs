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
    /// Reads the common shape straight from the engine's value, without a JSON copy first:
    /// known outcome and risk, lists of strings, no approval settings. `None` for anything
    /// else, which [`Verdict::from_value`] then reads (or explains).
    pub(crate) fn read_plain(v: &regorus::Value) -> Option<Verdict> {
        let field = |o: &regorus::Value, name: &str| -> Option<regorus::Value> {
            o.as_object()
                .ok()
                .map(|o| o.get(&regorus::Value::from(name)).cloned())?
        };
        let text = |v: Option<regorus::Value>| v?.as_string().ok().cloned();
        let outcome = match text(field(v, "outcome"))?.as_ref() {
            "allow" => Outcome::Allow,
            "deny" => Outcome::Deny,
            "approval_required" => Outcome::ApprovalRequired,
            _ => return None,
        };
        let risk = match text(field(v, "risk"))?.as_ref() {
            "safe" => Risk::Safe,
            "warning" => Risk::Warning,
            "critical" => Risk::Critical,
            _ => return None,
        };
        // As serialised: arrays in order, sets sorted.
        let strings = |x: Option<regorus::Value>| -> Option<Vec<String>> {
            let x = x?;
            let items: Vec<&regorus::Value> = match &x {
                regorus::Value::Array(a) => a.iter().collect(),
                regorus::Value::Set(s) => s.iter_sorted().collect(),
                _ => return None,
            };
            items
                .into_iter()
                .map(|m| m.as_string().ok().map(|s| s.to_string()))
                .collect()
        };
        let reasons = strings(field(v, "reasons"))?;
        let redact = strings(field(v, "obligations").and_then(|o| field(&o, "redact")))?;
        // Approval settings: only their absence is read here.
        match field(v, "approval") {
            None | Some(regorus::Value::Null | regorus::Value::Undefined) => {}
            Some(settings) => match settings.as_object() {
                Ok(o) if o.is_empty() => {}
                _ => return None,
            },
        }
        Some(Verdict {
            outcome,
            reasons,
            risk,
            redact,
            approvers: 1,
            approval_ttl_seconds: None,
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The direct read agrees with the JSON one wherever it answers, and answers the common case.
    #[test]
    fn the_plain_read_agrees_with_the_json_read() {
        let plain = json!({"outcome": "deny", "risk": "critical", "reasons": ["b", "a"],
            "obligations": {"redact": ["$.arguments.token"]}, "approval": {}});
        let cases = [
            plain.clone(),
            json!({"outcome": "allow", "risk": "safe", "reasons": [], "obligations": {"redact": []}}),
            json!({"outcome": "deny", "risk": "safe", "reasons": [1, "x"], "obligations": {"redact": []}}),
            json!({"outcome": "maybe", "risk": "safe", "reasons": [], "obligations": {"redact": []}}),
            json!({"outcome": "allow", "risk": "low", "reasons": [], "obligations": {"redact": []}}),
            json!({"outcome": "allow", "risk": "safe", "reasons": "no", "obligations": {"redact": []}}),
            json!({"outcome": "approval_required", "risk": "critical", "reasons": ["r"],
                "obligations": {"redact": []}, "approval": {"approvers": 2, "ttl_seconds": 60}}),
            json!({"outcome": "allow", "risk": "safe", "reasons": []}),
        ];
        for case in &cases {
            let value = regorus::Value::from(case.clone());
            let json = serde_json::to_value(&value).unwrap();
            if let Some(verdict) = Verdict::read_plain(&value) {
                assert_eq!(Ok(verdict), Verdict::from_value(&json), "{case}");
            }
        }
        assert!(Verdict::read_plain(&regorus::Value::from(plain)).is_some());
        // A set of reasons reads sorted, as it serialises.
        let set: regorus::Value = [regorus::Value::from("z"), regorus::Value::from("a")]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into();
        let mut v = regorus::Value::from(cases[1].clone());
        v.as_object_mut()
            .unwrap()
            .insert(regorus::Value::from("reasons"), set);
        assert_eq!(Verdict::read_plain(&v).unwrap().reasons, ["a", "z"]);
    }
}
