//! Simulation: a candidate revision evaluated against recorded decisions, before it goes live.

use std::collections::BTreeMap;

use sentinel_policy::RuleRef;
use serde::Serialize;
use uuid::Uuid;

use crate::{Pipeline, TenantPolicy};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangedDecision {
    pub decision_id: Uuid,
    pub agent: String,
    pub tool: String,
    pub before: String,
    pub after: String,
    pub reasons_after: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Simulation {
    pub candidate: String,
    /// How many recorded decisions were re-evaluated.
    pub evaluated: usize,
    /// Recorded outcome → count.
    pub before: BTreeMap<String, usize>,
    /// Candidate outcome → count.
    pub after: BTreeMap<String, usize>,
    pub changed: Vec<ChangedDecision>,
    /// The candidate's deny/approval/redact rules that no recorded input triggered.
    pub rules_never_fired: Vec<RuleRef>,
}

impl Pipeline {
    /// Re-evaluates the newest `last` recorded decisions of `tenant` that reached policy (those
    /// denied earlier — by a kill switch, say — have no policy input to replay).
    pub async fn simulate(
        &self,
        tenant: Uuid,
        candidate: &TenantPolicy,
        last: u32,
    ) -> Result<Simulation, sentinel_store::StoreError> {
        let records: Vec<_> = self
            .store
            .recent_decisions(tenant, last)
            .await?
            .into_iter()
            .filter(|r| !r.revision.is_empty())
            .collect();
        let inputs = records.iter().map(|r| r.input.clone().into()).collect();
        let (verdicts, never) = candidate.compiled.evaluate_all(inputs);
        let mut sim = Simulation {
            candidate: candidate.compiled.revision().to_string(),
            evaluated: records.len(),
            before: BTreeMap::new(),
            after: BTreeMap::new(),
            changed: Vec::new(),
            rules_never_fired: never,
        };
        for (record, verdict) in records.iter().zip(verdicts) {
            let (after, reasons) = match verdict {
                Ok(v) => (
                    serde_json::to_value(v.outcome)
                        .ok()
                        .and_then(|o| o.as_str().map(String::from))
                        .unwrap_or_default(),
                    v.reasons,
                ),
                Err(e) => ("deny".to_string(), vec![e.to_string()]),
            };
            *sim.before.entry(record.outcome.clone()).or_default() += 1;
            *sim.after.entry(after.clone()).or_default() += 1;
            if after != record.outcome {
                sim.changed.push(ChangedDecision {
                    decision_id: record.decision_id,
                    agent: record.agent.clone(),
                    tool: record.tool.clone(),
                    before: record.outcome.clone(),
                    after,
                    reasons_after: reasons,
                });
            }
        }
        Ok(sim)
    }
}
