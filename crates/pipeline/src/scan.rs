//! The scan hook: where scanners (secrets, PII, injection, dangerous commands) look at an action
//! before policy decides. Findings reach policy as `input.scan`.

use serde::Serialize;

/// One thing a scanner found, as policy sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanFinding {
    pub detector: String,
    pub rule: String,
    /// JSON path of the field it was found in, e.g. `$.arguments.query`.
    pub path: Option<String>,
    pub score: f32,
    pub severity: String,
}

/// Implemented by the guard crate; [`NoScanner`] finds nothing.
pub trait ActionScanner: Send + Sync + 'static {
    fn scan(&self, action: &sentinel_core::Action) -> Vec<ScanFinding>;

    /// A copy of an action's arguments fit for keeping: secrets and PII replaced by keyed
    /// hashes. Used for the decision log; policy always sees the original.
    fn redact_for_record(&self, arguments: &serde_json::Value) -> serde_json::Value {
        arguments.clone()
    }

    /// Like [`ActionScanner::redact_for_record`], but secrets only: an approval request keeps
    /// PII readable, because the recipient of a payment or an e-mail is often exactly what the
    /// operator must check.
    fn redact_secrets(&self, arguments: &serde_json::Value) -> serde_json::Value {
        arguments.clone()
    }
}

pub struct NoScanner;

impl ActionScanner for NoScanner {
    fn scan(&self, _: &sentinel_core::Action) -> Vec<ScanFinding> {
        Vec::new()
    }
}
