//! Added latency of the LLM gateway: open-loop load on `POST /v1/chat/completions` (non-streaming)
//! against the mock provider directly, through Sentinel (`sentinel serve`, SQLite, the baseline
//! policy, guard scans, usage recording), through a bare proxy on the same HTTP stacks that
//! governs nothing (`bare_proxy`: the extra hop's own cost, the floor under any gateway built
//! this way), and — in the same run, when installed — through the LiteLLM proxy configured
//! against the same mock.
//!
//! 1. closed loop (max throughput) of each target;
//! 2. open loop at 25 %, 50 % and 75 % of Sentinel's maximum, alternating direct / Sentinel /
//!    bare proxy / LiteLLM per run (LiteLLM only at rates below its own maximum), and all of
//!    them at half LiteLLM's maximum;
//! 3. added latency = the target's percentile minus the direct percentile at the same rate.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/target-llm cargo build --release -p sentinel-cli -p sentinel-bench
//! python3 -m venv /var/tmp/litellm-venv && /var/tmp/litellm-venv/bin/pip install 'litellm[proxy]==1.106.2'
//! /var/tmp/target-llm/release/llm_load --duration 3 --runs 3 --litellm /var/tmp/litellm-venv/bin/litellm
//! ```
//!
//! `--mock-latency-ms N` makes the mock wait N ms before answering (a provider's think time),
//! `--audit-strict false` runs Sentinel with background audit appends, and `--max-rate N` takes
//! N/s as Sentinel's maximum for the open-loop rates (instead of the closed loop's): A/B runs of
//! two builds then load both at the same rates, so their CPU per request compares.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sentinel_bench::flags::Flags;
use sentinel_bench::loadgen::{closed_loop, open_loop, request, Conn, RunResult, Target};
use sentinel_bench::server_metrics::Sums;
use sentinel_bench::stats::{median, Percentiles};
use serde_json::{json, Value};

struct Args {
    sentinel: PathBuf,
    mock: PathBuf,
    bare_proxy: PathBuf,
    litellm: Option<PathBuf>,
    duration: Duration,
    runs: usize,
    connections: usize,
    audit_strict: bool,
    /// The mock's latency before it answers (0: as fast as it can).
    mock_latency_ms: u64,
    /// Sentinel's maximum rate to take for the open loops, instead of the measured one.
    max_rate: Option<f64>,
}

/// A child process of ours, killed by its own handle when dropped.
struct Proc {
    child: Child,
    target: Target,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

fn spawn(
    mut cmd: Command,
    addr: SocketAddr,
    dir: Option<tempfile::TempDir>,
) -> anyhow::Result<Proc> {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let pid = child.id();
    Ok(Proc {
        child,
        target: Target {
            addr,
            pid: Some(pid),
        },
        _dir: dir,
    })
}

/// LiteLLM refuses to start without a master key; clients present it as their API key.
const LITELLM_KEY: &str = "sk-litellm-bench-master-key-0123456789";

const PROMPT: &str = "Summarise the deployment status of the payments service in one line.";

fn chat_body() -> Value {
    json!({"model": "mock-small", "max_tokens": 64,
        "messages": [{"role": "system", "content": "You are a terse SRE assistant."},
                     {"role": "user", "content": PROMPT}]})
}

async fn wait_for(addr: SocketAddr, path: &str, within: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Ok(mut c) = Conn::open(addr).await {
            if let Ok(200) = c.roundtrip(&request("GET", path, None, None)).await {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{addr}{path} did not answer 200 within {within:?}")
}

fn start_sentinel(args: &Args, mock: SocketAddr) -> anyhow::Result<Proc> {
    let dir = tempfile::tempdir()?;
    let addr = free_addr()?;
    let config = dir.path().join("sentinel.toml");
    std::fs::write(
        &config,
        format!(
            "audit_strict = {}\n\n[[llm.deployments]]\nname = \"mock\"\nmodel = \"mock-small\"\n\
             provider = \"openai\"\nbase_url = \"http://{mock}/v1\"\napi_key = \"sk-bench\"\n",
            args.audit_strict
        ),
    )?;
    let mut cmd = Command::new(&args.sentinel);
    cmd.arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--log-level")
        .arg("warn");
    spawn(cmd, addr, Some(dir))
}

/// Tenant, agent, the shipped baseline policy and an agent key.
async fn set_up(sentinel: &Proc) -> anyhow::Result<String> {
    let base = format!("http://{}", sentinel.target.addr);
    let dir = sentinel._dir.as_ref().context("data dir")?;
    let admin = std::fs::read_to_string(dir.path().join("admin.key"))?
        .trim()
        .to_string();
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        let req = http
            .post(format!("{base}{path}"))
            .bearer_auth(&admin)
            .json(&body);
        let path = path.to_string();
        async move {
            let resp = req.send().await?;
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            anyhow::ensure!(status.is_success(), "POST {path}: {status} {body}");
            anyhow::Ok(body)
        }
    };
    post("/v1/tenants", json!({"slug": "bench"})).await?;
    post("/v1/tenants/bench/agents", json!({"name": "bench-bot"})).await?;
    let policies = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/baseline");
    let mut modules = serde_json::Map::new();
    for entry in std::fs::read_dir(policies)?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".rego") {
            modules.insert(name, json!(std::fs::read_to_string(entry.path())?));
        }
    }
    post(
        "/v1/tenants/bench/policies?activate=true",
        json!({"modules": modules, "data": {"llm": {"max_tokens": 4096}}}),
    )
    .await?;
    let key = post(
        "/v1/tenants/bench/keys",
        json!({"role": "agent", "agent": "bench-bot"}),
    )
    .await?;
    let key = key["secret"].as_str().context("key secret")?.to_string();
    let answer: Value = http
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&chat_body())
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        answer["choices"][0]["message"]["content"].is_string(),
        "the gateway should answer: {answer}"
    );
    Ok(key)
}

fn start_bare_proxy(bin: &PathBuf, mock: SocketAddr) -> anyhow::Result<Proc> {
    let addr = free_addr()?;
    let mut cmd = Command::new(bin);
    cmd.arg("--listen")
        .arg(addr.to_string())
        .arg("--upstream")
        .arg(format!("http://{mock}"));
    spawn(cmd, addr, None)
}

fn start_litellm(bin: &PathBuf, mock: SocketAddr) -> anyhow::Result<Proc> {
    let dir = tempfile::tempdir()?;
    let addr = free_addr()?;
    let config = dir.path().join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: mock-small\n    litellm_params:\n      model: openai/mock-small\n      \
             api_base: http://{mock}/v1\n      api_key: sk-bench\n\
             litellm_settings:\n  telemetry: false\n  drop_params: true\n\
             general_settings:\n  master_key: {LITELLM_KEY}\n"
        ),
    )?;
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(&config)
        .arg("--host")
        .arg("127.0.0.1")
        .arg("--port")
        .arg(addr.port().to_string())
        .arg("--num_workers")
        .arg("1")
        .env("LITELLM_LOG", "ERROR")
        .env("LITELLM_TELEMETRY", "False")
        .env("NO_DOCS", "True");
    spawn(cmd, addr, Some(dir))
}

/// Sentinel's own timings (its `/metrics`), printed as means over each open-loop rate: the
/// whole request inside the gateway, the provider call in it, the decision, the audit commit
/// (overlapping the provider call) and the journal's write and `fdatasync` in that commit.
const SERVER_TIMINGS: [&str; 5] = [
    "sentinel_llm_request_seconds",
    "sentinel_llm_upstream_seconds",
    "sentinel_decision_duration_seconds",
    "sentinel_audit_commit_seconds",
    "sentinel_audit_journal_sync_seconds",
];

/// The lanes' order: direct, Sentinel, the bare proxy, then LiteLLM when it runs.
const LITELLM: usize = 3;

struct Lane {
    name: &'static str,
    target: Target,
    request: Rc<Vec<u8>>,
}

const USAGE: &str = "llm_load [--duration SECONDS (3)] [--runs R (3)] [--connections N (16)]
         [--audit-strict true|false (true)] [--mock-latency-ms MS (0)] [--max-rate PER_SECOND]
         [--sentinel PATH] [--mock PATH] [--bare-proxy PATH]
         [--litellm PATH (/var/tmp/litellm-venv/bin/litellm)]
Added latency of the LLM gateway against the mock provider directly, beside a bare proxy on the
same HTTP stacks (and LiteLLM, if installed). Programs default to those beside this one.";

fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let litellm = flags
        .text("litellm")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/var/tmp/litellm-venv/bin/litellm")))
        .filter(|p| p.exists());
    let args = Args {
        sentinel: flags.program("sentinel", "sentinel")?,
        mock: flags.program("mock", "mock_llm")?,
        bare_proxy: flags.program("bare-proxy", "bare_proxy")?,
        litellm,
        duration: Duration::from_secs_f64(flags.get("duration", 3.0f64)?),
        runs: flags.get("runs", 3usize)?,
        connections: flags.get("connections", 16usize)?,
        audit_strict: flags.get("audit-strict", true)?,
        mock_latency_ms: flags.get("mock-latency-ms", 0u64)?,
        max_rate: flags
            .text("max-rate")
            .map(|s| s.parse::<f64>())
            .transpose()
            .context("--max-rate takes requests per second")?,
    };
    flags.finish()?;
    sentinel_bench::loadgen::on_one_thread(run(args))?
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mock_addr = free_addr()?;
    let mut cmd = Command::new(&args.mock);
    cmd.arg("--listen")
        .arg(mock_addr.to_string())
        .arg("--latency-ms")
        .arg(args.mock_latency_ms.to_string());
    let mock = spawn(cmd, mock_addr, None)?;
    wait_for(mock_addr, "/v1/models", Duration::from_secs(10)).await?;
    let sentinel = start_sentinel(&args, mock_addr)?;
    wait_for(sentinel.target.addr, "/health", Duration::from_secs(30)).await?;
    let key = set_up(&sentinel).await?;
    let admin = std::fs::read_to_string(
        sentinel
            ._dir
            .as_ref()
            .context("data dir")?
            .path()
            .join("admin.key"),
    )?
    .trim()
    .to_string();
    let http = reqwest::Client::new();
    let base = format!("http://{}", sentinel.target.addr);
    let server_means = || Sums::read(&http, &base, &admin, &SERVER_TIMINGS);
    let bare = start_bare_proxy(&args.bare_proxy, mock_addr)?;
    wait_for(bare.target.addr, "/health", Duration::from_secs(10)).await?;
    let litellm = match &args.litellm {
        Some(bin) => {
            let p = start_litellm(bin, mock_addr)?;
            match wait_for(
                p.target.addr,
                "/health/liveliness",
                Duration::from_secs(120),
            )
            .await
            {
                Ok(()) => Some(p),
                Err(e) => {
                    println!("LiteLLM did not start: {e}");
                    None
                }
            }
        }
        None => {
            println!("LiteLLM not installed (pass --litellm PATH); measuring Sentinel only");
            None
        }
    };
    let body = chat_body();
    let mut lanes = vec![
        Lane {
            name: "direct",
            target: Target {
                addr: mock_addr,
                pid: mock.target.pid,
            },
            request: Rc::new(request(
                "POST",
                "/v1/chat/completions",
                Some("sk-bench"),
                Some(&body),
            )),
        },
        Lane {
            name: "sentinel",
            target: Target {
                addr: sentinel.target.addr,
                pid: sentinel.target.pid,
            },
            request: Rc::new(request(
                "POST",
                "/v1/chat/completions",
                Some(&key),
                Some(&body),
            )),
        },
        Lane {
            name: "bare_proxy",
            target: Target {
                addr: bare.target.addr,
                pid: bare.target.pid,
            },
            request: Rc::new(request(
                "POST",
                "/v1/chat/completions",
                Some("sk-bench"),
                Some(&body),
            )),
        },
    ];
    if let Some(p) = &litellm {
        lanes.push(Lane {
            name: "litellm",
            target: Target {
                addr: p.target.addr,
                pid: p.target.pid,
            },
            request: Rc::new(request(
                "POST",
                "/v1/chat/completions",
                Some(LITELLM_KEY),
                Some(&body),
            )),
        });
    }
    println!(
        "LLM gateway load: non-streaming chat completions, {} connections, {:?} per run, median of \
         {} runs, audit_strict={}, mock latency {} ms; mock, gateways and generator on the same {} \
         cores",
        args.connections,
        args.duration,
        args.runs,
        args.audit_strict,
        args.mock_latency_ms,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for lane in &lanes {
        closed_loop(
            &lane.target,
            &lane.request,
            args.connections,
            Duration::from_secs(1),
        )
        .await?;
    }
    let mut max = Vec::new();
    for lane in &lanes {
        let mut runs = Vec::new();
        for _ in 0..args.runs {
            runs.push(
                closed_loop(&lane.target, &lane.request, args.connections, args.duration).await?,
            );
        }
        let rate = report(&format!("closed loop {}", lane.name), &runs);
        max.push(rate);
    }
    let mut summary = vec![format!("sentinel_max_per_s={:.0}", max[1])];
    if let Some(rate) = args.max_rate {
        println!("open loops at fractions of {rate:.0}/s (--max-rate)");
        max[1] = rate;
    }
    if lanes.len() > LITELLM {
        summary.push(format!("litellm_max_per_s={:.0}", max[LITELLM]));
    }
    let mut plans: Vec<(String, f64, Vec<usize>)> = [0.25, 0.5, 0.75]
        .iter()
        .map(|f| {
            let rate = max[1] * f;
            let mut which = vec![0, 1, 2];
            if lanes.len() > LITELLM && rate < max[LITELLM] * 0.9 {
                which.push(LITELLM);
            }
            (format!("{:.0}%_sentinel", f * 100.0), rate, which)
        })
        .collect();
    if lanes.len() > LITELLM {
        plans.push((
            "50%_litellm".into(),
            max[LITELLM] / 2.0,
            vec![0, 1, 2, LITELLM],
        ));
    }
    for (label, rate, which) in plans {
        let before = server_means().await?;
        let mut results: Vec<Vec<RunResult>> = which.iter().map(|_| Vec::new()).collect();
        for _ in 0..args.runs {
            for (slot, &i) in which.iter().enumerate() {
                let lane = &lanes[i];
                results[slot].push(
                    open_loop(
                        &lane.target,
                        &lane.request,
                        args.connections,
                        args.duration,
                        rate,
                    )
                    .await?,
                );
            }
        }
        let after = server_means().await?;
        println!("open loop at {rate:.0}/s ({label} of max):");
        let p = |runs: &[RunResult]| {
            Percentiles::median_of(&runs.iter().map(|r| r.latency).collect::<Vec<_>>())
        };
        let direct = p(&results[0]);
        for (slot, &i) in which.iter().enumerate() {
            report(&format!("  {}", lanes[i].name), &results[slot]);
            if i > 0 {
                let (p50, p99) = above(&p(&results[slot]), &direct);
                println!("    added vs direct: p50 {p50:+.1} µs  p99 {p99:+.1} µs");
                let name = lanes[i].name;
                summary.push(format!(
                    "{name}_{label}_added_p50_us={p50:.0} {name}_{label}_added_p99_us={p99:.0}"
                ));
            }
        }
        // Sentinel (slot 1) over the bare proxy (slot 2): what governance adds to the hop.
        let (p50, p99) = above(&p(&results[1]), &p(&results[2]));
        println!("  sentinel over the bare proxy: p50 {p50:+.1} µs  p99 {p99:+.1} µs");
        summary.push(format!(
            "governance_{label}_p50_us={p50:.0} governance_{label}_p99_us={p99:.0}"
        ));
        let means: Vec<String> = SERVER_TIMINGS
            .iter()
            .map(|name| format!("{:.0}", after.mean_us_since(&before, name)))
            .collect();
        println!(
            "  sentinel's own means, µs: request / provider call / decide / audit commit / journal sync: {}",
            means.join(" / ")
        );
    }
    println!("\nSUMMARY {}", summary.join(" "));
    Ok(())
}

/// How far `t`'s p50 and p99 are above `base`'s, in µs.
fn above(t: &Percentiles, base: &Percentiles) -> (f64, f64) {
    let us = |a: u64, b: u64| (a as f64 - b as f64) / 1000.0;
    (us(t.p50, base.p50), us(t.p99, base.p99))
}

/// Prints the medians of `runs`; returns the median throughput.
fn report(what: &str, runs: &[RunResult]) -> f64 {
    let rate = median(&runs.iter().map(|r| r.per_second).collect::<Vec<_>>());
    let p = Percentiles::median_of(&runs.iter().map(|r| r.latency).collect::<Vec<_>>());
    let cpu = median(
        &runs
            .iter()
            .map(|r| r.server_cpu_us_per_request)
            .collect::<Vec<_>>(),
    );
    let errors: usize = runs.iter().map(|r| r.errors).sum();
    println!("{what:<28} {rate:>8.0}/s  {p}  cpu {cpu:>6.0} µs/req  errors {errors}");
    rate
}
