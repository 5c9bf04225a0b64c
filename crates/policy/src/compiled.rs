//! A bundle compiled into a warmed engine, evaluated under a time limit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::{Program, RegoVM};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};

use crate::rule_index::{Reach, RuleIndex};
use crate::{Bundle, PolicyError, SourceError, Verdict, DECISION_RULE, LIBRARY, LIBRARY_FILE};

/// How a policy is evaluated, and for how long at most.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock limit, checked inside the evaluator: a runaway rule is stopped, and the
    /// caller denies.
    pub timeout: Duration,
    pub evaluator: Evaluator,
    /// On the VM, leave the rules an input cannot reach out of the program that decides it
    /// ([`crate::rule_index`]).
    pub rule_index: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_millis(100),
            evaluator: Evaluator::Auto,
            rule_index: true,
        }
    }
}

/// Which of regorus's two evaluators decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Evaluator {
    /// The bytecode VM for every bundle that provably cannot produce conflicting values (see
    /// [`crate::conflicts`]), the interpreter for the rest: the VM's speed with OPA's
    /// fail-closed semantics.
    #[default]
    Auto,
    /// The tree-walking interpreter: OPA's semantics, including its run-time errors (two
    /// definitions of a complete rule that disagree are an error, so the action is denied).
    Interpreter,
    /// regorus's register VM for every bundle its compiler accepts, proven conflict-free or
    /// not: it resolves a conflict silently (the rule becomes undefined or takes one of the
    /// values) where OPA reports an error, so a conflicting rule can fail open.
    Vm,
}

/// A validated bundle, ready to evaluate. Cheap to share (`Arc`); each worker thread evaluates
/// on its own clone of the prepared engine, made on first use.
pub struct CompiledPolicy {
    revision: String,
    template: Engine,
    pub(crate) bundle: Bundle,
    limits: Limits,
    /// The decision rule compiled to bytecode for regorus's register VM, several times faster
    /// than walking the syntax tree. `None` when the VM's compiler refused the bundle; the
    /// interpreter then decides (same semantics, slower).
    bytecode: Option<Programs>,
    /// Why the bytecode compiler refused the bundle, when it did.
    interpreted_because: Option<String>,
}

struct Bytecode {
    program: Arc<Program>,
    policy: regorus::CompiledPolicy,
    data: Value,
}

/// A bundle's decision programs for the VM: the whole bundle, and, when rules are indexed
/// ([`crate::rule_index`]), one program per set of indexed rules an input can reach.
struct Programs {
    whole: Arc<Bytecode>,
    indexed: Option<Arc<Indexed>>,
}

/// The programs of an indexed bundle, each compiled when a decision first needs it: a bundle
/// that names hundreds of tools compiles as fast as one that names none. The compiling is done
/// by a thread of its own ([`compile_later`]); until a program is ready, the whole bundle
/// decides its inputs, so no decision waits for a compiler (nor can an input chosen to need a
/// new program make its own decision slow).
struct Indexed {
    index: RuleIndex,
    /// The bundle's data, which every program holds.
    data: Value,
    limits: Limits,
    /// At most [`MAX_PROGRAMS`]; an input that would need another is decided by the whole
    /// bundle.
    programs: Mutex<HashMap<Reach, Slot>>,
}

/// Where one indexed program stands.
enum Slot {
    /// Queued or being compiled: the whole bundle decides meanwhile.
    Compiling,
    Ready(Arc<Bytecode>),
    /// It did not compile (not expected: it is the whole bundle with rules left out); the whole
    /// bundle decides its inputs, the same, only slower.
    Failed,
}

/// Programs compiled per indexed bundle. Each is a compiled copy of the bundle with a VM per
/// worker thread, so their number is bounded; real bundles need a few dozen (one per tool
/// their rules name, and one for the rest).
const MAX_PROGRAMS: usize = 256;

/// A worker thread's VMs for one revision.
#[derive(Default)]
struct WarmVms {
    whole: Option<RegoVM>,
    by_reach: HashMap<Reach, RegoVM>,
}

thread_local! {
    static WARM: RefCell<HashMap<String, Engine>> = RefCell::new(HashMap::new());
    static WARM_VM: RefCell<HashMap<String, WarmVms>> = RefCell::new(HashMap::new());
}

/// The VM counts instructions as well as time; the time limit is the one that matters, so the
/// count is set far out of its way.
const VM_MAX_INSTRUCTIONS: usize = 50_000_000;
const WARM_PER_THREAD: usize = 16;

impl CompiledPolicy {
    /// Parses, compiles and dry-runs `bundle` with the library module. Every error is located.
    pub fn compile(bundle: &Bundle, limits: Limits) -> Result<CompiledPolicy, PolicyError> {
        bundle
            .check_limits()
            .map_err(|m| PolicyError::Invalid(vec![unlocated(m)]))?;
        let mut engine = new_engine(limits);
        engine
            .add_policy(LIBRARY_FILE.into(), LIBRARY.into())
            .map_err(|e| PolicyError::Invalid(vec![locate(&e.to_string(), LIBRARY_FILE)]))?;
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
        let compiled = match limits.evaluator {
            Evaluator::Vm => Programs::compile(&mut engine, &bundle.data, limits),
            Evaluator::Auto => match crate::conflicts::first_conflict(engine.get_modules()) {
                None => Programs::compile(&mut engine, &bundle.data, limits),
                Some(c) => Err(anyhow::anyhow!(
                    "{c}; the interpreter reports such a conflict as an error (and denies), the bytecode VM would not"
                )),
            },
            Evaluator::Interpreter => Err(anyhow::anyhow!("the interpreter was chosen")),
        };
        let (bytecode, interpreted_because) = match compiled {
            Ok(b) => (Some(b), None),
            Err(e) if limits.evaluator != Evaluator::Vm => (None, Some(e.to_string())),
            Err(e) => {
                tracing::warn!(revision = %bundle.revision(), error = %e, "policy runs on the interpreter: the bytecode compiler refused it");
                (None, Some(e.to_string()))
            }
        };
        Ok(CompiledPolicy {
            revision: bundle.revision(),
            template: engine,
            bundle: bundle.clone(),
            limits,
            bytecode,
            interpreted_because,
        })
    }

    pub fn revision(&self) -> &str {
        &self.revision
    }

    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// Whether decisions run on the bytecode VM (else on the interpreter).
    pub fn on_bytecode(&self) -> bool {
        self.bytecode.is_some()
    }

    /// Why decisions run on the interpreter, when they do.
    pub fn interpreted_because(&self) -> Option<&str> {
        self.interpreted_because.as_deref()
    }

    /// Evaluates `data.sentinel.decision` for `input`.
    pub fn evaluate(&self, input: Value) -> Result<Verdict, PolicyError> {
        let value = match &self.bytecode {
            Some(b) => self.eval_bytecode(b, input)?,
            None => self.eval_rule(input, DECISION_RULE)?,
        };
        verdict_of(value)
    }

    /// Evaluates `data.sentinel.decision` on the interpreter, whatever the bytecode: for
    /// comparing the two engines.
    pub fn evaluate_interpreted(&self, input: Value) -> Result<Verdict, PolicyError> {
        verdict_of(self.eval_rule(input, DECISION_RULE)?)
    }

    fn eval_bytecode(&self, programs: &Programs, input: Value) -> Result<Value, PolicyError> {
        let reach = programs.indexed.as_ref().map(|i| i.index.reach(&input));
        WARM_VM.with(|warm| {
            let mut warm = warm.borrow_mut();
            let run = |vm: &mut RegoVM| {
                vm.set_input(input);
                crate::vm_guard::take_failure();
                let value = vm
                    .execute_entry_point_by_name(DECISION_RULE)
                    .map_err(|e| self.runtime_error(e.to_string()));
                // A builtin that failed fails the decision, even where the VM went on without it.
                match crate::vm_guard::take_failure() {
                    Some(failure) => Err(PolicyError::Evaluation(failure)),
                    None => value,
                }
            };
            // A warm VM, the common case: two lookups.
            if let Some(vms) = warm.get_mut(&self.revision) {
                let vm = match &reach {
                    Some(reach) => vms.by_reach.get_mut(reach),
                    None => vms.whole.as_mut(),
                };
                if let Some(vm) = vm {
                    return run(vm);
                }
            }
            if !warm.contains_key(&self.revision) && warm.len() >= WARM_PER_THREAD {
                warm.clear();
            }
            let program = reach.as_ref().and_then(|r| {
                programs
                    .indexed
                    .as_ref()
                    .and_then(|indexed| indexed.program(r))
            });
            let vms = warm.entry(self.revision.clone()).or_default();
            match (reach, program) {
                (Some(reach), Some(b)) => {
                    let vm = self.new_vm(&b)?;
                    run(vms.by_reach.entry(reach).or_insert(vm))
                }
                _ => match &mut vms.whole {
                    Some(vm) => run(vm),
                    None => {
                        let vm = self.new_vm(&programs.whole)?;
                        run(vms.whole.insert(vm))
                    }
                },
            }
        })
    }

    fn new_vm(&self, b: &Bytecode) -> Result<RegoVM, PolicyError> {
        let mut vm = RegoVM::new_with_policy(b.policy.clone());
        vm.load_program(b.program.clone());
        vm.set_data(b.data.clone())
            .map_err(|e| PolicyError::Evaluation(e.to_string()))?;
        // Non-strict: values of different types compare in Rego's total order, as in the
        // interpreter; builtin errors still deny (crate::vm_guard).
        vm.set_strict_builtin_errors(false);
        vm.set_max_instructions(VM_MAX_INSTRUCTIONS);
        vm.set_execution_timer_config(Some(ExecutionTimerConfig {
            limit: self.limits.timeout,
            check_interval: NonZeroU32::new(64).expect("non-zero"),
        }));
        Ok(vm)
    }

    /// How many rules the index leaves out of the programs for inputs they cannot match
    /// ([`crate::rule_index`]): 0 when none qualifies, or the interpreter decides.
    pub fn rules_indexed(&self) -> usize {
        self.bytecode
            .as_ref()
            .and_then(|p| p.indexed.as_ref())
            .map_or(0, |i| i.index.len())
    }

    /// How many indexed programs are compiled and in use (each for one set of rules an input
    /// can reach). One that is still compiling, or failed to, is not counted: the whole bundle
    /// decides its inputs.
    pub fn indexed_programs(&self) -> usize {
        self.count_slots(|s| matches!(s, Slot::Ready(_)))
    }

    /// How many indexed programs are queued for, or on, the compiler thread.
    pub fn compiling_programs(&self) -> usize {
        self.count_slots(|s| matches!(s, Slot::Compiling))
    }

    /// Waits, at most `limit`, until no program of this bundle is compiling, so that the next
    /// decisions run on the programs their inputs need (benchmarks and tests want that);
    /// whether that came about in time.
    pub fn settle(&self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while self.compiling_programs() > 0 {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }

    fn count_slots(&self, which: impl Fn(&Slot) -> bool) -> usize {
        let Some(indexed) = self.bytecode.as_ref().and_then(|p| p.indexed.as_ref()) else {
            return 0;
        };
        let programs = indexed
            .programs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        programs.values().filter(|s| which(s)).count()
    }

    fn runtime_error(&self, message: String) -> PolicyError {
        if message.contains("time limit") || message.contains("execution time") {
            PolicyError::Timeout(self.limits.timeout)
        } else {
            PolicyError::Evaluation(message)
        }
    }
}

fn verdict_of(value: Value) -> Result<Verdict, PolicyError> {
    if value == Value::Undefined {
        return Err(PolicyError::Malformed(
            "data.sentinel.decision is undefined".into(),
        ));
    }
    if let Some(verdict) = Verdict::read_plain(&value) {
        return Ok(verdict);
    }
    let json = serde_json::to_value(&value).map_err(|e| PolicyError::Malformed(e.to_string()))?;
    Verdict::from_value(&json).map_err(PolicyError::Malformed)
}

/// Compiles the decision rule of a ready engine to VM bytecode.
fn to_bytecode(engine: &Engine, data: Value) -> anyhow::Result<Bytecode> {
    let mut engine = engine.clone();
    let policy = engine.compile_with_entrypoint(&DECISION_RULE.into())?;
    let mut program =
        Arc::unwrap_or_clone(Compiler::compile_from_policy(&policy, &[DECISION_RULE])?);
    crate::vm_guard::install(&mut program)?;
    Ok(Bytecode {
        program: Arc::new(program),
        policy,
        data,
    })
}

impl Programs {
    /// The whole bundle's program, and the rule index when some rule is indexed.
    fn compile(
        engine: &mut Engine,
        data: &serde_json::Value,
        limits: Limits,
    ) -> anyhow::Result<Programs> {
        let data = Value::from(data.clone());
        let whole = Arc::new(to_bytecode(engine, data.clone())?);
        let indexed = limits
            .rule_index
            .then(|| RuleIndex::of(engine.get_modules()))
            .flatten()
            .map(|index| {
                Arc::new(Indexed {
                    index,
                    data,
                    limits,
                    programs: Mutex::new(HashMap::new()),
                })
            });
        Ok(Programs { whole, indexed })
    }
}

impl Indexed {
    /// The program for inputs that reach `reach`; `None` when the whole bundle must decide
    /// (the program is being compiled, did not compile, or there are too many already). The
    /// first such input queues the program for the compiler thread.
    fn program(self: &Arc<Self>, reach: &Reach) -> Option<Arc<Bytecode>> {
        let (unindexed, queue) = {
            let mut programs = self
                .programs
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match programs.get(reach) {
                Some(Slot::Ready(b)) => return Some(b.clone()),
                Some(Slot::Compiling) => ("compiling", false),
                Some(Slot::Failed) => ("failed", false),
                None if programs.len() >= MAX_PROGRAMS => ("cap", false),
                None => {
                    programs.insert(reach.clone(), Slot::Compiling);
                    ("compiling", true)
                }
            }
        };
        // Many of these, steadily, mean inputs reach more sets of rules than the cap allows
        // programs for (or someone crafts them to).
        metrics::counter!("sentinel_policy_unindexed_decisions_total", "reason" => unindexed)
            .increment(1);
        if queue {
            compile_later(Arc::downgrade(self), reach.clone());
        }
        None
    }

    /// Compiles the program for `reach` and makes it available.
    fn compile(&self, reach: &Reach) {
        let started = std::time::Instant::now();
        let sources = self.index.sources_for(reach);
        let (slot, result) = match engine_of(&sources, &self.data, self.limits)
            .and_then(|e| to_bytecode(&e, self.data.clone()))
        {
            Ok(b) => (Slot::Ready(Arc::new(b)), "compiled"),
            Err(e) => {
                tracing::warn!(error = %e, "policy: an indexed program did not compile; the whole bundle decides its inputs");
                (Slot::Failed, "failed")
            }
        };
        metrics::histogram!("sentinel_policy_program_compile_seconds")
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("sentinel_policy_programs_total", "result" => result).increment(1);
        self.programs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(reach.clone(), slot);
    }
}

/// An indexed program waiting for the compiler thread. A bundle replaced meanwhile is dropped,
/// and its programs are not compiled.
type CompileJob = (Weak<Indexed>, Reach);

/// Hands a program to the one compiler thread every bundle shares, started on first use: one
/// thread, so a burst of new inputs (or revisions) takes one core at most, in order.
fn compile_later(indexed: Weak<Indexed>, reach: Reach) {
    static COMPILER: OnceLock<Option<mpsc::Sender<CompileJob>>> = OnceLock::new();
    let sender = COMPILER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<CompileJob>();
        std::thread::Builder::new()
            .name("policy-compiler".into())
            .spawn(move || {
                for (indexed, reach) in rx {
                    if let Some(indexed) = indexed.upgrade() {
                        indexed.compile(&reach);
                    }
                }
            })
            .inspect_err(|e| tracing::warn!(error = %e, "policy: no compiler thread; indexed programs compile where they are first needed"))
            .ok()
            .map(|_| tx)
    });
    let job = (indexed, reach);
    let job = match sender {
        Some(tx) => match tx.send(job) {
            Ok(()) => return,
            Err(mpsc::SendError(job)) => job,
        },
        None => job,
    };
    if let Some(indexed) = job.0.upgrade() {
        indexed.compile(&job.1);
    }
}

/// An empty engine with Sentinel's settings: the time limit, and builtin errors as errors.
fn new_engine(limits: Limits) -> Engine {
    let mut engine = Engine::new();
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: limits.timeout,
        check_interval: NonZeroU32::new(64).expect("non-zero"),
    });
    engine.set_strict_builtin_errors(true);
    engine
}

/// An engine with `sources` (the library among them) and `data`, for compiling to bytecode.
fn engine_of(sources: &[(String, String)], data: &Value, limits: Limits) -> anyhow::Result<Engine> {
    let mut engine = new_engine(limits);
    for (name, source) in sources {
        engine.add_policy(name.clone(), source.clone())?;
    }
    engine.add_data(data.clone())?;
    Ok(engine)
}

impl CompiledPolicy {
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
            engine
                .eval_rule(rule.into())
                .map_err(|e| self.runtime_error(e.to_string()))
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
