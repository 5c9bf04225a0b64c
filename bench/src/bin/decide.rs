//! In-process decision benchmark: `Pipeline::decide` without HTTP, on a real SQLite store (temp
//! file, durable decision log), with the generated 100-rule policy active; and, in the same run,
//! the shipped 2-rule `sre` bundle as the baseline, and policy evaluation alone
//! (`CompiledPolicy::evaluate`) so the cost split is visible.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/sentinel-target cargo run --release -p sentinel-bench --bin decide -- \
//!     --iterations 20000 --runs 5
//! ```
//!
//! Each run stops after `--iterations` or `--max-seconds` (default 3), whichever comes first.
//! Prints a table of medians over the runs and `SUMMARY key=value` lines for `bench/run.sh`.
//! It allocates as the `sentinel` binary does (mimalloc, the crate's default feature); built with
//! `--no-default-features`, with glibc's malloc.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_bench::flags::Flags;
use sentinel_bench::policy100;
use sentinel_bench::stats::{median, rss_mb, Percentiles};
use sentinel_core::{ids, Action, Agent, AgentStatus, Risk, Tenant, Tool, ToolKind};
use sentinel_pipeline::{Caller, Pipeline, PipelineConfig};
use sentinel_policy::{Bundle, CompiledPolicy, Limits};
use serde_json::{json, Value};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    iterations: usize,
    warmup: usize,
    runs: usize,
    /// Upper bound on one run's length, whatever `iterations` says.
    budget: Duration,
    /// Which bundles to measure: `sre`, `100`, or both (the default).
    only: Option<String>,
    /// Index rules by their leading guards (the default), or run every rule for every action.
    rule_index: bool,
}

const USAGE: &str = "decide [--iterations N (20000)] [--warmup N (2000)] [--runs R (5)]
       [--max-seconds S (3, per run)] [--only sre|100 (both)] [--rule-index true|false (true)]
In-process Pipeline::decide on SQLite: the 100-rule policy and the shipped sre bundle.";

impl Args {
    fn parse() -> anyhow::Result<Args> {
        let flags = Flags::from_env(USAGE)?;
        let args = Args {
            iterations: flags.get("iterations", 20_000usize)?,
            warmup: flags.get("warmup", 2_000usize)?,
            runs: flags.get("runs", 5usize)?,
            budget: Duration::from_secs(flags.get("max-seconds", 3usize)? as u64),
            only: flags.text("only").map(String::from),
            rule_index: flags.get("rule-index", true)?,
        };
        flags.finish()?;
        Ok(args)
    }
}

/// One measured configuration: its per-run percentiles and throughputs.
#[derive(Default)]
struct Series {
    latency: Vec<Percentiles>,
    per_second: Vec<f64>,
}

impl Series {
    fn push(&mut self, mut samples: Vec<u64>, wall: Duration) {
        self.per_second
            .push(samples.len() as f64 / wall.as_secs_f64());
        self.latency.push(Percentiles::of(&mut samples));
    }

    fn p50(&self) -> u64 {
        Percentiles::median_of(&self.latency).p50
    }

    fn rate(&self) -> f64 {
        median(&self.per_second)
    }

    fn print(&self, what: &str) {
        println!(
            "{what:<44} {}  {:>9.0} /s",
            Percentiles::median_of(&self.latency),
            self.rate()
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    let dir = tempfile::tempdir()?;
    let store = sentinel_store::open(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await?;
    let caller = register(store.as_ref()).await?;
    let config = PipelineConfig {
        rule_index: args.rule_index,
        ..PipelineConfig::default()
    };
    let pipeline = Arc::new(Pipeline::start(store, config).await?);

    let action: Action = serde_json::from_value(policy100::typical_action())?;
    let samples: Vec<(&str, Action)> = policy100::sample_actions()
        .into_iter()
        .map(|(name, a, _)| Ok((name, serde_json::from_value(a)?)))
        .collect::<anyhow::Result<_>>()?;
    let sre = Bundle::from_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/sre"),
    )?;
    let hundred = policy100::bundle();

    println!(
        "decide(): {} iterations per run after {} warm-up, median of {} runs (nproc {}, {}, rule index {})",
        args.iterations,
        args.warmup,
        args.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(feature = "mimalloc") {
            "mimalloc"
        } else {
            "glibc malloc"
        },
        if args.rule_index { "on" } else { "off" }
    );
    let mut single = HashMap::new();
    let mut dual = HashMap::new();
    let mut active = None;
    for (label, bundle) in [("sre", &sre), ("100", &hundred)] {
        if args.only.as_deref().is_some_and(|o| o != label) {
            continue;
        }
        let compiled = Arc::new(
            pipeline
                .compile(bundle)
                .map_err(|e| anyhow::anyhow!("{label}: {e}"))?,
        );
        pipeline
            .policies
            .activate(caller.tenant_id, compiled.clone());
        let check = pipeline.decide(caller, action.clone()).await;
        compiled.compiled.settle(Duration::from_secs(60));
        active = Some(compiled.clone());
        anyhow::ensure!(
            check.outcome == sentinel_core::Outcome::Allow,
            "{label}: the typical action should be allowed: {:?}",
            check.reasons
        );
        sequential(&pipeline, caller, &action, args.warmup, args.budget).await;
        let (mut one, mut two) = (Series::default(), Series::default());
        for _ in 0..args.runs {
            let started = Instant::now();
            let s = sequential(&pipeline, caller, &action, args.iterations, args.budget).await;
            one.push(s, started.elapsed());
            let started = Instant::now();
            let s = concurrent(&pipeline, caller, &action, args.iterations, 2, args.budget).await;
            two.push(s, started.elapsed());
        }
        one.print(&format!("decide, {label}-rule policy, 1 task"));
        two.print(&format!("decide, {label}-rule policy, 2 tasks"));
        single.insert(label, one);
        dual.insert(label, two);
    }

    if args.only.is_some() {
        return Ok(());
    }

    // The sample actions, one at a time, under the 100-rule policy (still active).
    for (name, a) in &samples {
        pipeline.decide(caller, a.clone()).await;
        if let Some(policy) = &active {
            policy.compiled.settle(Duration::from_secs(60));
        }
        let mut s = Series::default();
        for _ in 0..args.runs {
            let started = Instant::now();
            let v = sequential(&pipeline, caller, a, args.iterations / 4, args.budget / 2).await;
            s.push(v, started.elapsed());
        }
        s.print(&format!("decide, 100-rule, {name}"));
    }

    // Policy evaluation alone, on this thread's warmed engine, with the pipeline's input shape.
    let input = input_document(&policy100::typical_action());
    let sre_eval = evaluate_only(&sre, &input, &args, "sre")?;
    let with_conversion = evaluate_only(&hundred, &input, &args, "100")?;

    let d = &single["100"];
    println!();
    println!(
        "SUMMARY decide_p50_us={:.1} decide_p99_us={:.1} decide_per_s_1task={:.0} decide_per_s_2tasks={:.0} \
         sre_p50_us={:.1} ratio_100_vs_sre={:.2} evaluate_p50_us={:.1} evaluate_share={:.0}%",
        d.p50() as f64 / 1e3,
        Percentiles::median_of(&d.latency).p99 as f64 / 1e3,
        d.rate(),
        dual["100"].rate(),
        single["sre"].p50() as f64 / 1e3,
        d.p50() as f64 / single["sre"].p50().max(1) as f64,
        with_conversion.p50() as f64 / 1e3,
        100.0 * with_conversion.p50() as f64 / d.p50().max(1) as f64,
    );
    println!(
        "SUMMARY sre_evaluate_p50_us={:.1} sre_pipeline_overhead_us={:.1}",
        sre_eval.p50() as f64 / 1e3,
        (single["sre"].p50() as f64 - sre_eval.p50() as f64) / 1e3,
    );
    Ok(())
}

/// Tenant `bench`, agent `bench-bot` and tool `query_metrics`, written to the store.
async fn register(store: &dyn sentinel_store::Store) -> anyhow::Result<Caller> {
    let now = ids::now();
    let tenant = Tenant {
        id: ids::new_id(),
        slug: "bench".into(),
        display_name: "Bench".into(),
        created_at: now,
    };
    store.insert_tenant(&tenant).await?;
    let agent = Agent {
        id: ids::new_id(),
        tenant_id: tenant.id,
        name: "bench-bot".into(),
        framework: Some("langgraph".into()),
        owner: Some("sre@example.com".into()),
        description: None,
        status: AgentStatus::Active,
        labels: serde_json::from_value(policy100::agent_labels())?,
        created_at: now,
        updated_at: now,
    };
    store.insert_agent(&agent).await?;
    store
        .insert_tool(&Tool {
            id: ids::new_id(),
            tenant_id: tenant.id,
            name: "query_metrics".into(),
            kind: ToolKind::Mcp,
            server: Some("prometheus-mcp".into()),
            url: None,
            owner: Some("sre".into()),
            scopes: vec!["metrics:read".into()],
            risk: Risk::Safe,
            metadata: json!({}),
            is_active: true,
            created_at: now,
            updated_at: now,
        })
        .await?;
    Ok(Caller {
        tenant_id: tenant.id,
        agent_id: agent.id,
        key_id: sentinel_core::new_id(),
    })
}

/// `n` decisions one after another (fewer if `budget` runs out); each one's latency in
/// nanoseconds.
async fn sequential(
    pipeline: &Pipeline,
    caller: Caller,
    action: &Action,
    n: usize,
    budget: Duration,
) -> Vec<u64> {
    let deadline = Instant::now() + budget;
    let mut samples = Vec::with_capacity(n);
    while samples.len() < n && Instant::now() < deadline {
        let a = action.clone();
        let started = Instant::now();
        std::hint::black_box(pipeline.decide(caller, a).await);
        samples.push(started.elapsed().as_nanos() as u64);
    }
    samples
}

/// `n` decisions split over `tasks` concurrent tasks.
async fn concurrent(
    pipeline: &Arc<Pipeline>,
    caller: Caller,
    action: &Action,
    n: usize,
    tasks: usize,
    budget: Duration,
) -> Vec<u64> {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (p, a) = (pipeline.clone(), action.clone());
            tokio::spawn(async move { sequential(&p, caller, &a, n / tasks, budget).await })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    for h in handles {
        all.extend(h.await.expect("bench task"));
    }
    all
}

/// Times `CompiledPolicy::evaluate` alone, with and without a JSON → `Value` conversion (which
/// the pipeline no longer pays: it builds its input as a `Value`); returns the series that
/// includes it.
fn evaluate_only(
    bundle: &Bundle,
    input: &Value,
    args: &Args,
    label: &str,
) -> anyhow::Result<Series> {
    // The pipeline's default (`auto`: the VM for these conflict-free bundles); the same
    // compiled policy also times the interpreter.
    let limits = Limits {
        rule_index: args.rule_index,
        ..Limits::default()
    };
    let started = Instant::now();
    let compiled = CompiledPolicy::compile(bundle, limits).map_err(|e| anyhow::anyhow!("{e}"))?;
    let compile = started.elapsed();
    let value = sentinel_policy::Value::from(input.clone());
    // The first decision queues the program for the rules its input can reach (the rule
    // index) and is decided by the whole bundle; the program is ready a little later.
    let started = Instant::now();
    compiled.evaluate(value.clone()).expect("evaluates");
    let first = started.elapsed();
    compiled.settle(Duration::from_secs(60));
    println!(
        "{label}-rule bundle: compiled in {:.1} ms; first decision {:.1} ms, its program ready after {:.1} ms ({} rules indexed)",
        compile.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3,
        compiled.rules_indexed()
    );
    if label == "100" && args.rule_index {
        first_decisions(bundle, limits, input)?;
    }
    let (mut with_conversion, mut prebuilt, mut interpreted) =
        (Series::default(), Series::default(), Series::default());
    timed(args.warmup, args.budget, || {
        compiled.evaluate(value.clone()).expect("evaluates");
    });
    for _ in 0..args.runs {
        let started = Instant::now();
        // What the pipeline paid before it built its input as a policy value directly: the
        // conversion of a JSON input document, then evaluation.
        let s = timed(args.iterations, args.budget, || {
            compiled
                .evaluate(sentinel_policy::value_of(input))
                .expect("evaluates");
        });
        with_conversion.push(s, started.elapsed());
        let started = Instant::now();
        let s = timed(args.iterations, args.budget, || {
            compiled.evaluate(value.clone()).expect("evaluates");
        });
        prebuilt.push(s, started.elapsed());
        // The same on the tree-walking interpreter, for comparison in the same run.
        let started = Instant::now();
        let s = timed(args.iterations, args.budget, || {
            compiled
                .evaluate_interpreted(value.clone())
                .expect("evaluates");
        });
        interpreted.push(s, started.elapsed());
    }
    with_conversion.print(&format!("evaluate only, {label}-rule, incl. JSON→Value"));
    prebuilt.print(&format!(
        "evaluate only, {label}-rule, prebuilt Value ({})",
        if compiled.on_bytecode() {
            "bytecode VM"
        } else {
            "interpreter: no bytecode"
        }
    ));
    interpreted.print(&format!(
        "evaluate only, {label}-rule, prebuilt Value, interpreter"
    ));
    Ok(with_conversion)
}

/// The first decision of each of twenty actions that reach different rules of the 100-rule
/// bundle, just after it is compiled: each needs a program of its own, so each is decided by
/// the whole bundle while its program compiles on the compiler thread. Printed beside the time
/// each program took to compile (what such a decision waited for when programs were compiled
/// where first needed) and the memory the programs took.
fn first_decisions(bundle: &Bundle, limits: Limits, input: &Value) -> anyhow::Result<()> {
    let compiled = CompiledPolicy::compile(bundle, limits).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rss_before = rss_mb(std::process::id())?;
    let (mut first, mut compile) = (Vec::new(), Vec::new());
    let inputs: Vec<_> = policy100::distinct_reaches()
        .into_iter()
        .map(|(tool, namespace)| {
            let mut input = input.clone();
            input["action"]["target"]["tool"] = json!(tool);
            input["action"]["arguments"]["namespace"] = json!(namespace);
            sentinel_policy::Value::from(input)
        })
        .collect();
    for value in &inputs {
        let started = Instant::now();
        compiled.evaluate(value.clone()).expect("evaluates");
        first.push(started.elapsed().as_nanos() as u64);
        compiled.settle(Duration::from_secs(60));
        compile.push(started.elapsed().as_nanos() as u64);
        // Now on its program, with this thread's VM for it.
        compiled.evaluate(value.clone()).expect("evaluates");
    }
    let grown = rss_mb(std::process::id())? - rss_before;
    let (f, c) = (Percentiles::of(&mut first), Percentiles::of(&mut compile));
    println!(
        "first decision of {} actions that each need their own program: p50 {:.1} µs, max {:.1} µs; its program compiled in p50 {:.1} µs, max {:.1} µs; RSS +{:.1} MB for the {} programs and a VM each ({:.0} KB per program)",
        inputs.len(),
        f.p50 as f64 / 1e3,
        f.max as f64 / 1e3,
        c.p50 as f64 / 1e3,
        c.max as f64 / 1e3,
        grown,
        compiled.indexed_programs(),
        grown * 1024.0 / compiled.indexed_programs().max(1) as f64
    );
    Ok(())
}

fn timed(n: usize, budget: Duration, mut f: impl FnMut()) -> Vec<u64> {
    let deadline = Instant::now() + budget;
    let mut samples = Vec::with_capacity(n);
    while samples.len() < n && Instant::now() < deadline {
        let started = Instant::now();
        f();
        samples.push(started.elapsed().as_nanos() as u64);
    }
    samples
}

/// The input document `sentinel_pipeline` builds for the benchmark action (same shape and
/// sizes; see crates/pipeline/src/input.rs).
fn input_document(action: &Value) -> Value {
    let mut action = action.clone();
    action["tenant"] = json!("bench");
    action["agent"] = json!("bench-bot");
    json!({
        "action": action,
        "tenant": {"id": ids::new_id(), "slug": "bench"},
        "agent": {
            "id": ids::new_id(), "name": "bench-bot", "framework": "langgraph",
            "owner": "sre@example.com", "labels": policy100::agent_labels(), "status": "active",
        },
        "tool": {
            "id": ids::new_id(), "name": "query_metrics", "kind": "mcp", "server": "prometheus-mcp",
            "url": null, "owner": "sre", "scopes": ["metrics:read"], "risk": "safe",
            "metadata": {}, "is_active": true,
        },
        "scan": {"findings": [], "max_score": {}},
        "quota": null,
        "session": {"id": null, "tainted": false, "untrusted_sources": []},
        "now": "2025-01-01T00:00:00Z",
    })
}
