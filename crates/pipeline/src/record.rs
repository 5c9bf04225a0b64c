//! A decision on its way to the decision log: what `decide()` hands the log writer, which turns
//! it into the recorded [`DecisionRecord`] off the request path (the input document as JSON,
//! arguments redacted, the decision serialised).
//!
//! With strict audit the record travels with the decision's audit entry and is written in the
//! same transaction ([`crate::AuditLog::append_decision`]), so a decision the caller was
//! answered is in the decision log as surely as in the audit log, even after `kill -9`.

use std::sync::Arc;

use sentinel_core::{Action, Decision, DecisionRecord};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::input::{self, InputFacts};
use crate::{ActionScanner, Receipt};

pub struct PendingRecord {
    pub decision_id: Uuid,
    pub tenant_id: Uuid,
    /// The action as policy saw it (tenant and agent filled in from the key).
    pub action: Action,
    /// The rest of the input document; `None` for decisions denied before policy.
    pub facts: Option<InputFacts>,
    /// Shared with the `decision.made` event.
    pub decision: Arc<Decision>,
    /// The shadow revision's verdict, when one ran.
    pub shadow: serde_json::Value,
    pub revision: String,
    pub timestamp: OffsetDateTime,
    pub duration_us: u64,
    /// Redacts the arguments for keeping.
    pub scanner: Arc<dyn ActionScanner>,
}

impl PendingRecord {
    /// The record of a decision that is final as it stands.
    pub fn into_record(self) -> DecisionRecord {
        let result = serde_json::to_value(&*self.decision).unwrap_or_default();
        self.record(self.decision.outcome.as_str(), result)
    }

    /// The record of a decision whose audit entry was being written with it: with where the
    /// entry landed (`Ok`), or, when it could not be written, as the denial the caller got.
    pub(crate) fn with_audit(&self, audit: Result<Receipt, &str>) -> DecisionRecord {
        match audit {
            Ok(receipt) => {
                let mut result = serde_json::to_value(&*self.decision).unwrap_or_default();
                result["audit"] =
                    serde_json::to_value(crate::decide::audit_ref(receipt)).unwrap_or_default();
                self.record(self.decision.outcome.as_str(), result)
            }
            Err(reason) => {
                let mut denied = (*self.decision).clone();
                crate::decide::fail_closed(&mut denied, reason);
                let result = serde_json::to_value(&denied).unwrap_or_default();
                self.record(denied.outcome.as_str(), result)
            }
        }
    }

    fn record(&self, outcome: &str, mut result: serde_json::Value) -> DecisionRecord {
        if !self.shadow.is_null() {
            result["shadow"] = self.shadow.clone();
        }
        DecisionRecord {
            decision_id: self.decision_id,
            tenant_id: self.tenant_id,
            agent: self.action.agent.clone().unwrap_or_default(),
            tool: self.action.target.tool.clone(),
            outcome: outcome.into(),
            revision: self.revision.clone(),
            input: record_copy(self.scanner.as_ref(), &self.action, self.facts.as_ref()),
            result,
            timestamp: self.timestamp,
            duration_us: self.duration_us,
        }
    }
}

/// What the decision log keeps of the input: the policy input (or, for decisions denied
/// before policy, the action), with secrets and PII in the arguments replaced by keyed
/// hashes. Findings stay, so simulations replay rules about them unchanged.
fn record_copy(
    scanner: &dyn ActionScanner,
    action: &Action,
    facts: Option<&InputFacts>,
) -> serde_json::Value {
    let mut input = match facts {
        Some(facts) => input::build(&facts.parts(action)),
        None => serde_json::to_value(action).unwrap_or_default(),
    };
    let arguments = match input.get_mut("action") {
        Some(a) => &mut a["arguments"],
        None => &mut input["arguments"],
    };
    // Decisions that reached policy carry their scan findings: redact only when they found
    // something to redact, rather than scanning every decision twice. Decisions denied
    // before policy (a kill switch, say) were never scanned, so scan those.
    let found_sensitive = match facts {
        Some(facts) => facts
            .findings
            .iter()
            .any(|f| matches!(f.detector.as_str(), "secrets" | "pii")),
        None => true,
    };
    if found_sensitive && !arguments.is_null() {
        *arguments = scanner.redact_for_record(arguments);
    }
    input
}
