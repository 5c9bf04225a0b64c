//! `Pipeline::decide`: the one path every action takes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_core::*;
use sentinel_policy::{CompiledPolicy, Evaluator, Limits, PolicyError};
use sentinel_store::Store;
use uuid::Uuid;

use crate::decision_id::new_decision_id;
use crate::events::{DecisionMade, EventData};
use crate::input::{self, InputFacts};
use crate::record::PendingRecord;
use crate::registry_cache::RegistryCache;
use crate::{
    ActionScanner, ApprovalConfig, AuditLog, DecisionRecorder, DecisionSink, EventBus, KillSwitch,
    NewEntry, NoScanner, PolicySet, QuotaBook, Quotas, Receipt, TenantPolicy,
};

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub policy_timeout: Duration,
    /// Which evaluator decides (see [`Evaluator`]): `auto`, the bytecode VM for bundles proven
    /// conflict-free, unless chosen otherwise.
    pub evaluator: Evaluator,
    /// Run a `deny` or `approval` rule only for inputs its leading guards let through (on the
    /// VM; `sentinel_policy::Limits::rule_index`).
    pub rule_index: bool,
    /// Answer only once the decision's audit entry is durable (the default). When false, the
    /// entry is written in the background and a crash can lose the newest decisions.
    pub audit_strict: bool,
    pub approvals: ApprovalConfig,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            policy_timeout: Duration::from_millis(100),
            evaluator: Evaluator::Auto,
            rule_index: true,
            audit_strict: true,
            approvals: ApprovalConfig::default(),
        }
    }
}

impl PipelineConfig {
    fn limits(&self) -> Limits {
        Limits {
            timeout: self.policy_timeout,
            evaluator: self.evaluator,
            rule_index: self.rule_index,
        }
    }
}

/// Who is acting: resolved from the agent's API key by the enforcement point.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub tenant_id: Uuid,
    pub agent_id: Uuid,
    /// The agent's key: it can never answer the approval requests it causes.
    pub key_id: Uuid,
}

pub struct Pipeline {
    pub store: Arc<dyn Store>,
    pub kills: KillSwitch,
    pub policies: PolicySet,
    pub quotas: QuotaBook,
    /// Live events: decisions here, and whatever the server publishes (kills, activations).
    pub events: Arc<EventBus>,
    pub(crate) registry: RegistryCache,
    pub(crate) scanner: Arc<dyn ActionScanner>,
    recorder: DecisionRecorder,
    audit: Option<Arc<AuditLog>>,
    config: PipelineConfig,
    /// Keys the MAC of grant tokens.
    pub(crate) grant_key: [u8; 32],
    /// Serialises approval transitions on this node (the store's version check covers others).
    pub(crate) approval_lock: tokio::sync::Mutex<()>,
}

/// The parts of a decision that policy did not make.
struct Early {
    reasons: Vec<String>,
    risk: Risk,
}

impl Pipeline {
    /// Loads active policies and kills from the store and starts the decision log writer.
    pub async fn start(
        store: Arc<dyn Store>,
        config: PipelineConfig,
    ) -> Result<Pipeline, sentinel_store::StoreError> {
        let kills = KillSwitch::load(store.active_kills().await?);
        let policies = PolicySet::default();
        for (tenant, revision) in store.active_revisions().await? {
            match compile_stored(&revision.bundle, config.limits()) {
                Ok(p) => policies.activate(tenant, Arc::new(p)),
                // Fail closed: the tenant has no active policy, so everything is denied.
                Err(e) => {
                    tracing::error!(%tenant, revision = %revision.revision, error = %e, "stored policy no longer compiles")
                }
            }
        }
        Ok(Pipeline {
            registry: RegistryCache::new(store.clone()),
            recorder: DecisionRecorder::start(DecisionSink::Store(store.clone())),
            scanner: Arc::new(NoScanner),
            store,
            kills,
            policies,
            quotas: QuotaBook::default(),
            events: Arc::new(EventBus::new()),
            audit: None,
            config,
            grant_key: rand::random(),
            approval_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub fn with_scanner(mut self, scanner: Arc<dyn ActionScanner>) -> Pipeline {
        self.scanner = scanner;
        self
    }

    /// Records every decision in `audit` before answering (see [`PipelineConfig::audit_strict`]).
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> Pipeline {
        // One writer for both logs: decision records share the audit log's commits.
        self.recorder = DecisionRecorder::start(DecisionSink::Audit(audit.clone()));
        self.audit = Some(audit);
        self
    }

    /// Keys grant tokens with `key` (kept in the data directory, so grants survive a restart).
    /// Without it, a random key lives as long as the process.
    pub fn with_grant_key(mut self, key: [u8; 32]) -> Pipeline {
        self.grant_key = key;
        self
    }

    pub fn audit(&self) -> Option<&Arc<AuditLog>> {
        self.audit.as_ref()
    }

    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Registry edits made through this node reach decisions at once.
    pub fn registry_changed(&self) {
        self.registry.invalidate();
    }

    /// Compiles a stored revision's bundle (JSON) into a policy this pipeline can activate.
    pub(crate) fn compile_stored_revision(
        &self,
        bundle: &serde_json::Value,
    ) -> Result<TenantPolicy, String> {
        compile_stored(bundle, self.config.limits())
    }

    /// Compiles a bundle into a policy this pipeline can activate.
    pub fn compile(&self, bundle: &sentinel_policy::Bundle) -> Result<TenantPolicy, PolicyError> {
        compile_bundle(bundle, self.config.limits())
    }

    /// Decides `action` for `caller`. Never fails: every error becomes a `deny` with its reason.
    pub async fn decide(&self, caller: Caller, action: Action) -> Decision {
        self.decide_with_grant(caller, action, None).await
    }

    /// Decides `action`, presenting `grant` (from an approved request) in case policy holds it
    /// for approval: a valid grant for this exact action allows it, once.
    pub async fn decide_with_grant(
        &self,
        caller: Caller,
        mut action: Action,
        grant: Option<&str>,
    ) -> Decision {
        let started = Instant::now();
        let decision_id = new_decision_id();
        let mut facts = None;
        let mut revision = String::new();
        let mut shadow = serde_json::Value::Null;
        let decision = match self
            .evaluate(
                caller,
                decision_id,
                grant,
                &mut action,
                &mut facts,
                &mut revision,
                &mut shadow,
            )
            .await
        {
            Ok(mut d) => {
                d.decision_id = decision_id;
                d
            }
            Err(early) => Decision {
                decision_id,
                outcome: Outcome::Deny,
                reasons: early.reasons,
                risk: early.risk,
                approval_id: None,
                obligations: Obligations::default(),
                quota: None,
                policy: None,
                audit: None,
            },
        };
        let mut decision = decision;
        let (agent, tool, server, session, kind) = (
            action.agent.clone(),
            action.target.tool.clone(),
            action.target.server.clone(),
            action.session.clone(),
            action.kind,
        );
        let findings = facts.as_ref().map_or(&[][..], |f| &f.findings[..]);
        let entry = self
            .audit
            .as_ref()
            .map(|_| audit_entry(caller, &action, &decision, findings, &revision));
        let record = |decision: Arc<Decision>| PendingRecord {
            decision_id,
            tenant_id: caller.tenant_id,
            action,
            facts,
            decision,
            shadow,
            revision,
            timestamp: ids::now(),
            duration_us: started.elapsed().as_micros() as u64,
            scanner: self.scanner.clone(),
        };
        // The event's copy of the decision (the caller gets this one), shared with the decision
        // log's record when that is made from the final decision; the event's JSON is made only
        // if something reads it, the record by a writer. With strict audit the record goes with
        // the entry, before the audit's outcome is known (the writer adds it).
        let shared = match (&self.audit, entry) {
            (Some(audit), Some(entry)) if self.config.audit_strict => {
                // The record goes with the entry: one commit, so the answer implies both.
                match audit
                    .append_decision(entry, record(Arc::new(decision.clone())))
                    .await
                {
                    Ok(r) => decision.audit = Some(audit_ref(r)),
                    // Fail closed: nothing is allowed that the log cannot show.
                    Err(reason) => fail_closed(&mut decision, &reason),
                }
                Arc::new(decision.clone())
            }
            (audit, entry) => {
                if let (Some(audit), Some(entry)) = (audit.clone(), entry) {
                    tokio::spawn(async move {
                        if let Err(reason) = audit.append(entry).await {
                            tracing::error!(%reason, "audit append failed");
                        }
                    });
                }
                let shared = Arc::new(decision.clone());
                self.recorder.record(record(shared.clone())).await;
                shared
            }
        };
        let elapsed = started.elapsed();
        metrics::counter!("sentinel_decisions_total", "outcome" => decision.outcome.as_str())
            .increment(1);
        metrics::histogram!("sentinel_decision_duration_seconds").record(elapsed.as_secs_f64());
        self.events.publish(
            crate::events::kinds::DECISION_MADE,
            Some(caller.tenant_id),
            Some(caller.agent_id),
            EventData::decision(DecisionMade {
                decision: shared,
                agent,
                tool,
                server,
                session,
                kind,
            }),
        );
        decision
    }

    #[allow(clippy::too_many_arguments)]
    async fn evaluate(
        &self,
        caller: Caller,
        decision_id: Uuid,
        grant: Option<&str>,
        action: &mut Action,
        facts_out: &mut Option<InputFacts>,
        revision: &mut String,
        shadow_out: &mut serde_json::Value,
    ) -> Result<Decision, Early> {
        let deny = |reason: String| Early {
            reasons: vec![reason],
            risk: Risk::Critical,
        };
        let store_down = |e: sentinel_store::StoreError| {
            deny(format!("denied because the registry is unavailable: {e}"))
        };

        // Identify.
        let tenant = self
            .registry
            .tenant(caller.tenant_id)
            .await
            .map_err(store_down)?
            .ok_or_else(|| deny("the key's tenant no longer exists".into()))?;
        let agent = self
            .registry
            .agent(caller.tenant_id, caller.agent_id)
            .await
            .map_err(store_down)?
            .ok_or_else(|| deny("the key's agent is not registered".into()))?;
        if let Some(claimed) = action
            .tenant
            .as_deref()
            .filter(|t| *t != tenant.slug && *t != tenant.id.to_string())
        {
            return Err(deny(format!(
                "the action names tenant {claimed:?} but the key belongs to {:?}",
                tenant.slug
            )));
        }
        if let Some(claimed) = action
            .agent
            .as_deref()
            .filter(|a| *a != agent.name && *a != agent.id.to_string())
        {
            return Err(deny(format!(
                "the action names agent {claimed:?} but the key belongs to {:?}",
                agent.name
            )));
        }
        action.tenant = Some(tenant.slug.clone());
        action.agent = Some(agent.name.clone());

        // Kill switch, then the agent's own status.
        if let Some(kill) = self.kills.covering(
            tenant.id,
            &agent.name,
            &action.target.tool,
            action.session.as_deref(),
        ) {
            let scope = serde_json::to_value(kill.scope)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            return Err(deny(format!(
                "kill switch ({scope} {}) is active: {}",
                kill.target, kill.reason
            )));
        }
        if agent.status == AgentStatus::Killed {
            return Err(deny(format!("agent {} is killed", agent.name)));
        }

        // Registry, scan, quota state.
        let tool = self
            .registry
            .tool(tenant.id, &action.target.tool)
            .await
            .map_err(store_down)?;
        let findings = self.scanner.scan(action);
        let policy = self.policies.active(tenant.id).ok_or_else(|| {
            deny(format!(
                "no policy is active for tenant {}; everything is denied",
                tenant.slug
            ))
        })?;
        *revision = policy.compiled.revision().to_string();
        let quota = self
            .quotas
            .peek(tenant.id, &policy.quotas, &agent.name, &action.target.tool);
        // Kept for the decision log before anything can fail: a decision denied from here on
        // still records the input policy was given.
        let facts = facts_out.insert(InputFacts {
            tenant,
            agent,
            tool,
            findings,
            quota,
            now: ids::now(),
        });
        let value = input::value(&facts.parts(action));
        let (tenant, agent) = (&facts.tenant, &facts.agent);

        // Shadow evaluation: recorded beside the real one, never enforced.
        if let Some(candidate) = self.policies.shadow(tenant.id) {
            *shadow_out = match candidate.compiled.evaluate(value.clone()) {
                Ok(v) => {
                    serde_json::json!({"revision": candidate.compiled.revision(), "outcome": v.outcome, "reasons": v.reasons})
                }
                Err(e) => {
                    serde_json::json!({"revision": candidate.compiled.revision(), "outcome": "deny", "reasons": [e.to_string()]})
                }
            };
        }

        // Policy.
        let verdict = policy
            .compiled
            .evaluate(value)
            .map_err(|e| deny(format!("denied because the policy could not decide: {e}")))?;
        let policy_ref = Some(PolicyRef {
            bundle: tenant.slug.clone(),
            revision: revision.clone(),
        });
        let mut decision = Decision {
            decision_id,
            outcome: match verdict.outcome {
                sentinel_policy::Outcome::Allow => Outcome::Allow,
                sentinel_policy::Outcome::Deny => Outcome::Deny,
                sentinel_policy::Outcome::ApprovalRequired => Outcome::ApprovalRequired,
            },
            reasons: verdict.reasons,
            risk: verdict.risk,
            approval_id: None,
            obligations: Obligations {
                redact: verdict.redact,
            },
            quota: facts.quota.clone(),
            policy: policy_ref,
            audit: None,
        };

        // Approval: a valid grant for this exact action allows it; without one, the action
        // waits for a human.
        let mut granted = None;
        if decision.outcome == Outcome::ApprovalRequired {
            let digest = action_digest(action);
            match grant {
                Some(token) => match self.check_grant(token, tenant.id, agent.id, &digest).await {
                    Ok(approval) => {
                        decision.outcome = Outcome::Allow;
                        decision.approval_id = Some(approval.id);
                        decision.reasons = vec![format!(
                            "held for approval ({}) and {} in {}",
                            decision.reasons.join("; "),
                            approval.resolution.as_deref().unwrap_or("approved"),
                            approval.id
                        )];
                        granted = Some(approval);
                    }
                    Err(reason) => {
                        decision.outcome = Outcome::Deny;
                        decision.reasons = vec![reason];
                    }
                },
                None => {
                    let held = self
                        .hold(crate::approvals::Hold {
                            tenant_id: tenant.id,
                            agent_id: agent.id,
                            key_id: caller.key_id,
                            decision_id,
                            action,
                            digest: &digest,
                            reasons: &decision.reasons,
                            risk: decision.risk,
                            approvers: verdict.approvers,
                            ttl_seconds: verdict.approval_ttl_seconds,
                        })
                        .await;
                    match held {
                        Ok(approval) => decision.approval_id = Some(approval.id),
                        Err(e) => {
                            decision.outcome = Outcome::Deny;
                            decision.reasons = vec![format!(
                                "denied because the approval request could not be recorded: {e}"
                            )];
                        }
                    }
                }
            }
        }

        // Quota: only allowed actions spend.
        if decision.outcome == Outcome::Allow {
            match self
                .quotas
                .take(tenant.id, &policy.quotas, &agent.name, &action.target.tool)
            {
                Ok(state) => decision.quota = state,
                Err(state) => {
                    decision.outcome = Outcome::Deny;
                    decision.reasons = vec![format!(
                        "quota {} exhausted ({} per {} s); retry in {} s",
                        state.scope,
                        state.limit,
                        state.window_seconds,
                        state.retry_after_seconds.unwrap_or(1)
                    )];
                    decision.quota = Some(state);
                }
            }
        }
        // The grant is used up only by an action that is really allowed.
        if let (Some(approval), Outcome::Allow) = (granted, decision.outcome) {
            if let Err(reason) = self.use_grant(approval, decision_id).await {
                decision.outcome = Outcome::Deny;
                decision.reasons = vec![reason];
            }
        }
        Ok(decision)
    }
}

/// The audit entry of a decision: what was decided and why, with digests rather than the
/// action's arguments (which may hold secrets).
fn audit_entry(
    caller: Caller,
    action: &Action,
    d: &Decision,
    findings: &[crate::ScanFinding],
    revision: &str,
) -> NewEntry {
    use sentinel_audit::canonical::{canonical_json, sha256_label};
    let action_json = serde_json::to_value(action).unwrap_or_default();
    let findings: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| serde_json::json!({"detector": f.detector, "rule": f.rule, "path": f.path}))
        .collect();
    NewEntry {
        tenant: Some(caller.tenant_id),
        actor: format!("agent:{}", caller.agent_id),
        kind: sentinel_audit::entry::EntryKind::Decision,
        agent: action.agent.clone(),
        tool: Some(action.target.tool.clone()),
        outcome: Some(d.outcome.as_str().to_string()),
        policy_revision: (!revision.is_empty()).then(|| revision.to_string()),
        request_digest: Some(sha256_label(canonical_json(&action_json))),
        details: serde_json::json!({
            "decision_id": d.decision_id,
            "outcome": d.outcome,
            "reasons": d.reasons,
            "risk": d.risk,
            "agent": action.agent,
            "tool": action.target.tool,
            "server": action.target.server,
            "session": action.session,
            "kind": action.kind,
            "findings": findings,
            "obligations": d.obligations,
            "quota": d.quota,
            "approval_id": d.approval_id,
            "provenance": action.context.provenance,
        }),
    }
}

/// What a grant is bound to: the SHA-256 of the action (tenant and agent filled in from the
/// key) as JSON with object keys sorted and numbers written exactly. Not RFC 8785: JCS writes
/// numbers as doubles, so two integers above 2^53 could share a digest and a grant would
/// allow an action nobody approved.
pub(crate) fn action_digest(action: &Action) -> String {
    use sha2::Digest;
    let mut bytes = Vec::new();
    exact_json(
        &serde_json::to_value(action).unwrap_or_default(),
        &mut bytes,
    );
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes)))
}

fn exact_json(v: &serde_json::Value, out: &mut Vec<u8>) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                exact_json(&serde_json::Value::String(k.clone()), out);
                out.push(b':');
                exact_json(&map[k], out);
            }
            out.push(b'}');
        }
        serde_json::Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                exact_json(item, out);
            }
            out.push(b']');
        }
        // Scalars as serde_json writes them: integers exactly, strings escaped one way.
        scalar => out.extend(serde_json::to_vec(scalar).unwrap_or_default()),
    }
}

/// What a decision becomes when its audit entry cannot be written: a denial that says why.
pub(crate) fn fail_closed(decision: &mut Decision, reason: &str) {
    decision.outcome = Outcome::Deny;
    decision.reasons = vec![format!("denied because {reason}")];
    decision.obligations = Obligations::default();
}

pub(crate) fn audit_ref(r: Receipt) -> AuditRef {
    use base64::Engine;
    AuditRef {
        index: r.index,
        leaf_hash: base64::engine::general_purpose::STANDARD.encode(r.leaf_hash),
    }
}

fn compile_bundle(
    bundle: &sentinel_policy::Bundle,
    limits: Limits,
) -> Result<TenantPolicy, PolicyError> {
    let quotas = Quotas::from_bundle_data(&bundle.data).map_err(|m| {
        PolicyError::Invalid(vec![sentinel_policy::SourceError {
            file: "data".into(),
            line: 0,
            col: 0,
            message: m,
        }])
    })?;
    let compiled = CompiledPolicy::compile(bundle, limits)?;
    Ok(TenantPolicy { compiled, quotas })
}

fn compile_stored(bundle: &serde_json::Value, limits: Limits) -> Result<TenantPolicy, String> {
    let bundle: sentinel_policy::Bundle =
        serde_json::from_value(bundle.clone()).map_err(|e| e.to_string())?;
    compile_bundle(&bundle, limits).map_err(|e| e.to_string())
}

#[cfg(test)]
mod digest_tests {
    use super::*;

    fn action(args: serde_json::Value) -> Action {
        serde_json::from_value(serde_json::json!(
            {"kind": "tool_call", "target": {"tool": "transfer"}, "arguments": args}
        ))
        .unwrap()
    }

    #[test]
    fn integers_past_double_precision_get_different_digests() {
        let a = action(serde_json::json!({"to_account": 9007199254740992u64}));
        let b = action(serde_json::json!({"to_account": 9007199254740993u64}));
        assert_ne!(action_digest(&a), action_digest(&b));
        let c = action(serde_json::json!({"to_account": 12345678901234567890u64}));
        let d = action(serde_json::json!({"to_account": 12345678901234567000u64}));
        assert_ne!(action_digest(&c), action_digest(&d));
    }

    #[test]
    fn key_order_does_not_change_the_digest() {
        let a: Action = serde_json::from_str(
            r#"{"kind":"tool_call","target":{"tool":"t"},"arguments":{"a":1,"b":{"y":2,"x":[1,"z"]}}}"#,
        )
        .unwrap();
        let b: Action = serde_json::from_str(
            r#"{"arguments":{"b":{"x":[1,"z"],"y":2},"a":1},"target":{"tool":"t"},"kind":"tool_call"}"#,
        )
        .unwrap();
        assert_eq!(action_digest(&a), action_digest(&b));
        let c = action(serde_json::json!({"a": 1, "b": {"y": 2, "x": [1, "z", null]}}));
        assert_ne!(action_digest(&a), action_digest(&c));
    }
}
