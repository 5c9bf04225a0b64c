//! Quotas: N actions per window, per tenant, agent and tool, as token buckets.
//!
//! A bundle's data configures them:
//! ```json
//! {"quotas": {"tenant": {"limit": 1000, "window_seconds": 60},
//!             "agents": {"*": {"limit": 100, "window_seconds": 60}},
//!             "tools":  {"rollback_deployment": {"limit": 3, "window_seconds": 3600}}}}
//! ```
//! Policy sees the tightest applicable quota as `input.quota`; only allowed actions spend a token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use sentinel_core::QuotaState;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaRule {
    pub limit: u32,
    pub window_seconds: u32,
}

/// The quota rules of one bundle.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    #[serde(default)]
    pub tenant: Option<QuotaRule>,
    /// By agent name; `*` applies to every agent.
    #[serde(default)]
    pub agents: HashMap<String, QuotaRule>,
    /// By tool name; `*` applies to every tool.
    #[serde(default)]
    pub tools: HashMap<String, QuotaRule>,
}

impl Quotas {
    /// Reads `data.quotas`; a malformed section is an error, so the bundle is rejected.
    pub fn from_bundle_data(data: &serde_json::Value) -> Result<Quotas, String> {
        match data.get("quotas") {
            None => Ok(Quotas::default()),
            Some(q) => serde_json::from_value(q.clone()).map_err(|e| format!("data.quotas: {e}")),
        }
    }

    /// The rules that apply to an action, with their bucket scope names.
    fn applicable(&self, agent: &str, tool: &str) -> Vec<(String, QuotaRule)> {
        let mut out = Vec::new();
        if let Some(r) = self.tenant {
            out.push(("tenant".to_string(), r));
        }
        if let Some(r) = self.agents.get(agent).or_else(|| self.agents.get("*")) {
            out.push((format!("agent:{agent}"), *r));
        }
        if let Some(r) = self.tools.get(tool).or_else(|| self.tools.get("*")) {
            out.push((format!("tool:{tool}"), *r));
        }
        out
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Every tenant's buckets, in memory on this node.
#[derive(Default)]
pub struct QuotaBook {
    buckets: Mutex<HashMap<(Uuid, String), Bucket>>,
}

impl QuotaBook {
    /// The tightest applicable quota now, without spending.
    pub fn peek(
        &self,
        tenant: Uuid,
        quotas: &Quotas,
        agent: &str,
        tool: &str,
    ) -> Option<QuotaState> {
        self.apply(tenant, quotas, agent, tool, false).1
    }

    /// Spends one token from every applicable bucket if all have one; otherwise spends nothing
    /// and returns the exhausted quota.
    pub fn take(
        &self,
        tenant: Uuid,
        quotas: &Quotas,
        agent: &str,
        tool: &str,
    ) -> Result<Option<QuotaState>, QuotaState> {
        match self.apply(tenant, quotas, agent, tool, true) {
            (true, state) => Ok(state),
            (false, state) => Err(state.expect("an exhausted quota has a state")),
        }
    }

    fn apply(
        &self,
        tenant: Uuid,
        quotas: &Quotas,
        agent: &str,
        tool: &str,
        spend: bool,
    ) -> (bool, Option<QuotaState>) {
        let rules = quotas.applicable(agent, tool);
        if rules.is_empty() {
            return (true, None);
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap();
        let mut states = Vec::new();
        for (scope, rule) in &rules {
            let bucket = buckets.entry((tenant, scope.clone())).or_insert(Bucket {
                tokens: rule.limit as f64,
                updated: now,
            });
            let rate = rule.limit as f64 / rule.window_seconds.max(1) as f64;
            bucket.tokens = (bucket.tokens
                + now.duration_since(bucket.updated).as_secs_f64() * rate)
                .min(rule.limit as f64);
            bucket.updated = now;
            let retry = (bucket.tokens < 1.0).then(|| ((1.0 - bucket.tokens) / rate).ceil() as u32);
            states.push((scope.clone(), *rule, bucket.tokens, retry));
        }
        let all_have_one = states.iter().all(|s| s.2 >= 1.0);
        if spend && all_have_one {
            for (scope, ..) in &rules {
                if let Some(b) = buckets.get_mut(&(tenant, scope.clone())) {
                    b.tokens -= 1.0;
                }
            }
        }
        let spent = if spend && all_have_one { 1.0 } else { 0.0 };
        let tightest = states
            .into_iter()
            .min_by(|a, b| (a.2 - spent).total_cmp(&(b.2 - spent)))
            .map(|(scope, rule, tokens, retry)| QuotaState {
                scope,
                limit: rule.limit,
                window_seconds: rule.window_seconds,
                remaining: (tokens - spent).max(0.0).floor() as u32,
                retry_after_seconds: retry,
            });
        (all_have_one, tightest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_limit_then_says_when_to_retry() {
        let quotas = Quotas {
            tools: HashMap::from([(
                "rollback".into(),
                QuotaRule {
                    limit: 3,
                    window_seconds: 3600,
                },
            )]),
            ..Default::default()
        };
        let book = QuotaBook::default();
        let t = Uuid::now_v7();
        for left in [2, 1, 0] {
            assert_eq!(
                book.take(t, &quotas, "bot", "rollback")
                    .unwrap()
                    .unwrap()
                    .remaining,
                left
            );
        }
        let exhausted = book.take(t, &quotas, "bot", "rollback").unwrap_err();
        assert_eq!(exhausted.scope, "tool:rollback");
        assert!(exhausted.retry_after_seconds.unwrap() > 1000);
        assert!(
            book.take(t, &quotas, "bot", "other").unwrap().is_none(),
            "other tools are not limited"
        );
        assert!(
            book.take(Uuid::now_v7(), &quotas, "bot", "rollback")
                .is_ok(),
            "tenants have their own buckets"
        );
    }

    #[test]
    fn malformed_quota_data_is_rejected() {
        assert!(Quotas::from_bundle_data(
            &serde_json::json!({"quotas": {"tenant": {"limit": -1}}})
        )
        .is_err());
        assert!(Quotas::from_bundle_data(&serde_json::json!({"quotas": {"agentz": {}}})).is_err());
        assert!(Quotas::from_bundle_data(&serde_json::json!({})).is_ok());
    }
}
