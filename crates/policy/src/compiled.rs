//! A bundle compiled into a warmed engine, evaluated under a time limit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};

use crate::{Bundle, PolicyError, SourceError, Verdict, DECISION_RULE, LIBRARY};

/// Bounds on one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock limit, checked inside the interpreter: a runaway rule is stopped, and the
    /// caller denies.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_millis(100),
        }
    }
}

/// A validated bundle, ready to evaluate. Cheap to share (`Arc`); each worker thread evaluates
/// on its own clone of the prepared engine, made on first use.
pub struct CompiledPolicy {
    revision: String,
    template: Engine,
    pub(crate) bundle: Bundle,
    limits: Limits,
}

thread_local! {
    static WARM: RefCell<HashMap<String, Engine>> = RefCell::new(HashMap::new());
}
const WARM_PER_THREAD: usize = 16;

impl CompiledPolicy {
    /// Parses, compiles and dry-runs `bundle` with the library module. Every error is located.
    pub fn compile(bundle: &Bundle, limits: Limits) -> Result<CompiledPolicy, PolicyError> {
        bundle
            .check_limits()
            .map_err(|m| PolicyError::Invalid(vec![unlocated(m)]))?;
        let mut engine = Engine::new();
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limits.timeout,
            check_interval: NonZeroU32::new(64).expect("non-zero"),
        });
        engine.set_strict_builtin_errors(true);
        engine
            .add_policy("sentinel.rego".into(), LIBRARY.into())
            .map_err(|e| PolicyError::Invalid(vec![locate(&e.to_string(), "sentinel.rego")]))?;
        let mut errors = Vec::new();
        for (name, source) in &bundle.modules {
            if let Err(e) = engine.add_policy(name.clone(), source.clone()) {
                errors.push(locate(&e.to_string(), name));
            }
        }
        if !errors.is_empty() {
            return Err(PolicyError::Invalid(errors));
        }
        engine
            .add_data(Value::from(bundle.data.clone()))
            .map_err(|e| PolicyError::Invalid(vec![unlocated(format!("data: {e}"))]))?;
        // The dry run: compile errors in regorus surface at first evaluation.
        engine.set_input(Value::from(serde_json::json!({"action": {"target": {}}})));
        if let Err(e) = engine.eval_rule(DECISION_RULE.into()) {
            let message = e.to_string();
            let file = bundle.modules.keys().find(|k| message.contains(k.as_str()));
            return Err(PolicyError::Invalid(vec![locate(
                &message,
                file.map_or("", |f| f),
            )]));
        }
        Ok(CompiledPolicy {
            revision: bundle.revision(),
            template: engine,
            bundle: bundle.clone(),
            limits,
        })
    }

    pub fn revision(&self) -> &str {
        &self.revision
    }

    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// Evaluates `data.sentinel.decision` for `input`.
    pub fn evaluate(&self, input: Value) -> Result<Verdict, PolicyError> {
        let value = self.eval_rule(input, DECISION_RULE)?;
        if value == Value::Undefined {
            return Err(PolicyError::Malformed(
                "data.sentinel.decision is undefined".into(),
            ));
        }
        let json =
            serde_json::to_value(&value).map_err(|e| PolicyError::Malformed(e.to_string()))?;
        Verdict::from_value(&json).map_err(PolicyError::Malformed)
    }

    pub(crate) fn template_clone(&self) -> Engine {
        self.template.clone()
    }

    /// Evaluates any rule on this thread's warmed engine.
    pub(crate) fn eval_rule(&self, input: Value, rule: &str) -> Result<Value, PolicyError> {
        WARM.with(|warm| {
            let mut warm = warm.borrow_mut();
            if !warm.contains_key(&self.revision) {
                if warm.len() >= WARM_PER_THREAD {
                    warm.clear();
                }
                warm.insert(self.revision.clone(), self.template.clone());
            }
            let engine = warm.get_mut(&self.revision).expect("just inserted");
            engine.set_input(input);
            engine.eval_rule(rule.into()).map_err(|e| {
                let message = e.to_string();
                if message.contains("time limit") || message.contains("execution time") {
                    PolicyError::Timeout(self.limits.timeout)
                } else {
                    PolicyError::Evaluation(message)
                }
            })
        })
    }
}

fn unlocated(message: String) -> SourceError {
    SourceError {
        file: String::new(),
        line: 0,
        col: 0,
        message,
    }
}

/// Finds `file:line:col` in a regorus error message.
fn locate(message: &str, file: &str) -> SourceError {
    let mut found = SourceError {
        file: file.to_string(),
        line: 0,
        col: 0,
        message: message.trim().to_string(),
    };
    if file.is_empty() {
        return found;
    }
    if let Some(at) = message.find(&format!("{file}:")) {
        let mut nums = message[at + file.len() + 1..]
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u32>().unwrap_or(0));
        found.line = nums.next().unwrap_or(0);
        found.col = nums.next().unwrap_or(0);
    }
    found
}
