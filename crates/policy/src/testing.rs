//! `test_*` rules, run like `opa test`: each test rule in the bundle is evaluated and passes when
//! it is `true`.

use std::time::Instant;

use regorus::Value;
use serde::Serialize;

use crate::CompiledPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TestOutcome {
    Pass,
    Fail,
    Error,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestReport {
    /// Fully qualified, e.g. `data.sentinel.test_rollback_needs_approval`.
    pub name: String,
    pub file: String,
    pub outcome: TestOutcome,
    pub duration_us: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl CompiledPolicy {
    /// Runs every `test_*` rule of the bundle's modules.
    pub fn run_tests(&self) -> Vec<TestReport> {
        let mut reports = Vec::new();
        for (file, source) in &self.bundle.modules {
            let package = source
                .lines()
                .find_map(|l| l.trim().strip_prefix("package "))
                .map(|p| p.trim().to_string())
                .unwrap_or_default();
            let mut seen = std::collections::BTreeSet::new();
            for line in source.lines() {
                let Some(name) = test_rule_name(line) else {
                    continue;
                };
                if !seen.insert(name.clone()) {
                    continue;
                }
                let rule = format!("data.{package}.{name}");
                let started = Instant::now();
                let result = self.eval_rule(Value::from(serde_json::json!({})), &rule);
                let (outcome, message) = match result {
                    Ok(Value::Bool(true)) => (TestOutcome::Pass, None),
                    Ok(Value::Undefined) => (
                        TestOutcome::Fail,
                        Some("the rule is undefined (a condition failed)".into()),
                    ),
                    Ok(other) => (
                        TestOutcome::Fail,
                        Some(format!("the rule is {other}, not true")),
                    ),
                    Err(e) => (TestOutcome::Error, Some(e.to_string())),
                };
                reports.push(TestReport {
                    name: rule,
                    file: file.clone(),
                    outcome,
                    duration_us: started.elapsed().as_micros() as u64,
                    message,
                });
            }
        }
        reports
    }
}

/// `test_x if {` / `test_x := …` / `test_x {` at the start of a line.
fn test_rule_name(line: &str) -> Option<String> {
    if !line.starts_with("test_") {
        return None;
    }
    let name: String = line
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let rest = line[name.len()..].trim_start();
    (rest.starts_with("if") || rest.starts_with(":=") || rest.starts_with('{')).then_some(name)
}
