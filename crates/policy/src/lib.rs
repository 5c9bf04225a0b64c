//! Rego policy bundles for Sentinel, evaluated in-process by `regorus`.
//!
//! A tenant's [`Bundle`] is a set of Rego v1 modules plus JSON data. [`Bundle::revision`] names
//! it by content hash; [`CompiledPolicy::compile`] parses, compiles and dry-runs it together with
//! Sentinel's library module (`rego/sentinel.rego`), which turns the user's `deny`, `approval`
//! and `redact` rules and the bundle's risk matrix into `data.sentinel.decision`. Evaluation runs
//! under a time limit enforced inside the interpreter, and on a warmed engine kept per worker
//! thread.
//!
//! ```
//! use sentinel_policy::{Bundle, CompiledPolicy, Outcome};
//! let bundle = Bundle::new()
//!     .module("shell.rego", "package sentinel\ndeny contains \"no shell\" if input.tool.kind == \"shell\"")
//!     .data(serde_json::json!({"risk_matrix": {"ls": "safe"}}));
//! let policy = CompiledPolicy::compile(&bundle, Default::default()).unwrap();
//! let input = serde_json::json!({"action": {"target": {"tool": "ls"}}, "tool": {"kind": "shell"}});
//! let verdict = policy.evaluate(input.into()).unwrap();
//! assert_eq!(verdict.outcome, Outcome::Deny);
//! assert_eq!(verdict.reasons, ["no shell"]);
//! ```

mod bundle;
mod compiled;
pub mod conflicts;
mod coverage;
mod error;
mod testing;
mod verdict;

pub use bundle::Bundle;
pub use compiled::{CompiledPolicy, Evaluator, Limits};
pub use coverage::RuleRef;
pub use error::{PolicyError, SourceError};
pub use regorus::Value;

/// The policy-engine value of a JSON document, converted by reference (no copy of the JSON
/// first). JSON always converts; `Undefined` would only come from a malformed number.
pub fn value_of(json: &serde_json::Value) -> Value {
    serde::Deserialize::deserialize(json).unwrap_or(Value::Undefined)
}
pub use testing::{TestOutcome, TestReport};
pub use verdict::{Outcome, Verdict};

/// The library module every bundle is compiled with.
pub const LIBRARY: &str = include_str!("../rego/sentinel.rego");
/// The rule the engine evaluates.
pub const DECISION_RULE: &str = "data.sentinel.decision";
