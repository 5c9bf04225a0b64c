//! Evaluating many inputs at once with coverage on, to tell which of the bundle's `deny`,
//! `approval` and `redact` rules never fired (for simulation against recorded history).

use regorus::Value;

use crate::{CompiledPolicy, PolicyError, Verdict, DECISION_RULE};

/// A rule of the bundle, located.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RuleRef {
    pub file: String,
    pub line: u32,
    /// The rule's head, e.g. `deny contains msg if {`.
    pub head: String,
}

impl CompiledPolicy {
    /// Evaluates every input and reports the decision rules that never fired. A rule fired when
    /// the last statement of its body was reached (statements run in order, so reaching the last
    /// one means the others held); one-line rules fired when their message appears in a reason.
    pub fn evaluate_all(
        &self,
        inputs: Vec<Value>,
    ) -> (Vec<Result<Verdict, PolicyError>>, Vec<RuleRef>) {
        let mut engine = self.template_clone();
        engine.set_enable_coverage(true);
        let mut verdicts = Vec::with_capacity(inputs.len());
        let mut all_reasons = std::collections::HashSet::new();
        for input in inputs {
            engine.set_input(input);
            let v = engine
                .eval_rule(DECISION_RULE.into())
                .map_err(|e| PolicyError::Evaluation(e.to_string()))
                .and_then(|v| {
                    serde_json::to_value(&v).map_err(|e| PolicyError::Malformed(e.to_string()))
                })
                .and_then(|j| Verdict::from_value(&j).map_err(PolicyError::Malformed));
            if let Ok(v) = &v {
                all_reasons.extend(v.reasons.iter().cloned());
                all_reasons.extend(v.redact.iter().cloned());
            }
            verdicts.push(v);
        }
        let report = engine.get_coverage_report().ok();
        let mut never = Vec::new();
        for (file, source) in &self.bundle().modules {
            let covered = report
                .as_ref()
                .and_then(|r| r.files.iter().find(|f| f.path == *file))
                .map(|f| f.covered.clone())
                .unwrap_or_default();
            for rule in decision_rules(file, source) {
                let fired = match rule.last_body_line {
                    Some(line) => covered.contains(&line),
                    None => rule
                        .literal
                        .as_ref()
                        .is_some_and(|m| all_reasons.contains(m)),
                };
                if !fired {
                    never.push(rule.at);
                }
            }
        }
        (verdicts, never)
    }
}

struct DecisionRule {
    at: RuleRef,
    last_body_line: Option<u32>,
    literal: Option<String>,
}

/// Finds `deny|approval|redact contains …` rules and where their bodies end.
fn decision_rules(file: &str, source: &str) -> Vec<DecisionRule> {
    let lines: Vec<&str> = source.lines().collect();
    let mut rules = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !["deny contains", "approval contains", "redact contains"]
            .iter()
            .any(|p| line.starts_with(p))
        {
            continue;
        }
        let at = RuleRef {
            file: file.to_string(),
            line: i as u32 + 1,
            head: line.trim().to_string(),
        };
        if line.trim_end().ends_with('{') {
            let end = lines[i + 1..]
                .iter()
                .position(|l| l.starts_with('}'))
                .map(|p| i + 1 + p);
            let is_code =
                |j: &usize| !lines[*j].trim().is_empty() && !lines[*j].trim().starts_with('#');
            let indent = |j: usize| lines[j].len() - lines[j].trim_start().len();
            // The last statement starts on the last line indented like the body's first line
            // that does not close a bracket (a statement may continue over several lines, and
            // coverage marks its first).
            let last = end.and_then(|end| {
                let first = (i + 1..end).find(is_code)?;
                (first..end).rev().find(|j| {
                    is_code(j)
                        && indent(*j) == indent(first)
                        && !lines[*j].trim_start().starts_with([')', ']', '}'])
                })
            });
            rules.push(DecisionRule {
                at,
                last_body_line: last.map(|j| j as u32 + 1),
                literal: None,
            });
        } else {
            let literal = line.split('"').nth(1).map(str::to_string);
            rules.push(DecisionRule {
                at,
                last_body_line: None,
                literal,
            });
        }
    }
    rules
}
