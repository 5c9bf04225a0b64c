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
mod fast_builtins;
mod rule_index;
mod testing;
mod verdict;
mod vm_guard;

pub use bundle::Bundle;
pub use compiled::{CompiledPolicy, Evaluator, Limits};
pub use coverage::RuleRef;
pub use error::{PolicyError, SourceError};
pub use regorus::{value::Object, Value};

/// The policy-engine value of a JSON document, converted by reference (no copy of the JSON
/// first). JSON always converts; `Undefined` would only come from a malformed number.
///
/// Written out rather than through regorus's `Deserialize` (which it matches exactly, a test
/// holds them equal): that allocates every string twice.
pub fn value_of(json: &serde_json::Value) -> Value {
    convert(json).unwrap_or(Value::Undefined)
}

/// serde_json's private name for an arbitrary-precision number, which regorus's `Deserialize`
/// reads as the number (failing when it is not one) when it is an object's first key.
const PRIVATE_NUMBER: &str = "$serde_json::private::Number";

fn convert(json: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as J;
    Some(match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(i)) => Value::from(i),
            _ => Value::from(n.as_f64().filter(|f| f.is_finite())?),
        },
        J::String(s) => Value::from(s.as_str()),
        J::Array(items) => Value::from(items.iter().map(convert).collect::<Option<Vec<_>>>()?),
        J::Object(map) => {
            if let Some((k, J::String(n))) = map.iter().next() {
                if k == PRIVATE_NUMBER {
                    // Any other entry is left unread, which serde reports as an error.
                    return Value::from_numeric_string(n)
                        .ok()
                        .filter(|_| map.len() == 1);
                }
            }
            let mut object = std::collections::BTreeMap::new();
            for (k, v) in map {
                object.insert(Value::from(k.as_str()), convert(v)?);
            }
            Value::from(object)
        }
    })
}
pub use testing::{TestOutcome, TestReport};
pub use verdict::{Outcome, Verdict};

/// The library module every bundle is compiled with.
pub const LIBRARY: &str = include_str!("../rego/sentinel.rego");
/// The library module's file name in every compiled bundle.
pub(crate) const LIBRARY_FILE: &str = "sentinel.rego";
/// The rule the engine evaluates.
pub const DECISION_RULE: &str = "data.sentinel.decision";

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// `value_of` converts as regorus's own `Deserialize` does, oddities included.
    #[test]
    fn value_of_matches_the_engine_s_deserialize() {
        let documents = [
            json!(null),
            json!(true),
            json!(0),
            json!(-7),
            json!(0.0),
            json!(0.25),
            json!(-1.5e300),
            json!(12345678901234567890u64),
            json!(i64::MIN),
            json!("text with \"quotes\" and ünïcode"),
            json!([]),
            json!({}),
            json!([1, "two", [3.5, null], {"k": false}]),
            json!({"b": {"c": [1, 2, {"d": "e"}]}, "a": 1, "": "empty key"}),
            json!({"$serde_json::private::Number": "12"}),
            json!({"$serde_json::private::Number": "1e400"}),
            json!({"$serde_json::private::Number": "not a number"}),
            json!({"$serde_json::private::Number": 12}),
            json!({"$serde_json::private::Number": "12", "z": 1}),
            json!({"!": 0, "$serde_json::private::Number": "not a number"}),
            json!({"deep": [{"$serde_json::private::Number": "nope"}]}),
        ];
        for document in &documents {
            let engine: regorus::Value =
                serde::Deserialize::deserialize(document).unwrap_or(regorus::Value::Undefined);
            assert_eq!(super::value_of(document), engine, "{document}");
        }
    }
}
