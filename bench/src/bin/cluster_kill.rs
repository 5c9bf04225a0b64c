//! Kill-switch propagation across cluster nodes: two `sentinel serve` processes on one
//! PostgreSQL database (a throwaway server that testkit starts) and one data directory. Each
//! round kills an agent through node A and measures, from the kill's acknowledgement, how long
//! until node B denies the agent's next check (polling B as fast as it answers); then the same
//! for the restore. The baseline, in the same run, is node A itself: its very next check.
//!
//! ```sh
//! cargo build --release -p sentinel-cli -p sentinel-bench
//! $CARGO_TARGET_DIR/release/cluster_kill --rounds 100 --sentinel $CARGO_TARGET_DIR/release/sentinel
//! ```
//!
//! Target (DESIGN.md): the next decision on the node denied; ≤ 100 ms p99 across nodes.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sentinel_bench::flags::Flags;
use sentinel_bench::stats::Percentiles;
use serde_json::{json, Value};

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bin: &Path, data: &Path, database: &str) -> anyhow::Result<Node> {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--log-level",
            "warn",
        ])
        .arg("--data-dir")
        .arg(data)
        .arg("--database-url")
        .arg(database)
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {} (build sentinel-cli in release)", bin.display()))?;
    Ok(Node {
        child,
        base: format!("http://{addr}"),
    })
}

struct Client {
    http: reqwest::Client,
}

impl Client {
    async fn send(&self, node: &Node, path: &str, key: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", node.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path}: {status} {body}");
        }
        Ok(body)
    }

    async fn outcome(&self, node: &Node, agent_key: &str) -> anyhow::Result<String> {
        let d = self
            .send(
                node,
                "/v1/check",
                agent_key,
                json!({"kind": "tool_call", "target": {"tool": "query_metrics"}}),
            )
            .await?;
        Ok(d["outcome"].as_str().unwrap_or_default().to_string())
    }

    /// Checks on `node` until the outcome is `want`; the time from `since`.
    async fn until(
        &self,
        node: &Node,
        key: &str,
        want: &str,
        since: Instant,
    ) -> anyhow::Result<Duration> {
        loop {
            if self.outcome(node, key).await? == want {
                return Ok(since.elapsed());
            }
            if since.elapsed() > Duration::from_secs(10) {
                bail!("node still not {want} after 10 s");
            }
        }
    }

    async fn wait_ready(&self, node: &Node) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(r) = self.http.get(format!("{}/health", node.base)).send().await {
                if r.status() == 200 {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{} did not answer /health within 30 s", node.base)
    }
}

const USAGE: &str = "cluster_kill [--rounds N (100)] [--sentinel PATH (beside this program)]
Kill-switch propagation between two `sentinel serve` nodes on one PostgreSQL (started here).";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let rounds: usize = flags.get("rounds", 100)?;
    let bin = flags.program("sentinel", "sentinel")?;
    flags.finish()?;
    let database = sentinel_testkit::postgres().fresh_database();
    let data = tempfile::tempdir()?;
    let c = Client {
        http: reqwest::Client::new(),
    };

    let a = start(&bin, data.path(), &database)?;
    c.wait_ready(&a).await?;
    // Node B starts once A has created the keys, as an operator copies them to a new node.
    let b = start(&bin, data.path(), &database)?;
    c.wait_ready(&b).await?;
    let admin = std::fs::read_to_string(data.path().join("admin.key"))?
        .trim()
        .to_string();

    c.send(&a, "/v1/tenants", &admin, json!({"slug": "bench"}))
        .await?;
    c.send(
        &a,
        "/v1/tenants/bench/agents",
        &admin,
        json!({"name": "bot"}),
    )
    .await?;
    c.send(
        &a,
        "/v1/tenants/bench/policies?activate=true",
        &admin,
        json!({"modules": {"p.rego": "package sentinel\n"}, "data": {"risk_matrix": {"query_metrics": "safe"}}}),
    )
    .await?;
    let key = c
        .send(
            &a,
            "/v1/tenants/bench/keys",
            &admin,
            json!({"role": "agent", "agent": "bot"}),
        )
        .await?["secret"]
        .as_str()
        .context("agent key")?
        .to_string();
    c.until(&b, &key, "allow", Instant::now()).await?;

    let (mut same, mut other, mut restored) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let kill = c
            .send(
                &a,
                "/v1/tenants/bench/kill",
                &admin,
                json!({"scope": "agent", "target": "bot", "reason": format!("round {round}")}),
            )
            .await?;
        let acked = Instant::now();
        // The baseline: node A's own next check (measured first, so B gets no head start).
        same.push(c.until(&a, &key, "deny", acked).await?.as_micros() as u64);
        other.push(c.until(&b, &key, "deny", acked).await?.as_micros() as u64);
        c.send(
            &a,
            "/v1/tenants/bench/restore",
            &admin,
            json!({"kill_id": kill["id"]}),
        )
        .await?;
        let acked = Instant::now();
        restored.push(c.until(&b, &key, "allow", acked).await?.as_micros() as u64);
        c.until(&a, &key, "allow", Instant::now()).await?;
    }
    let report = |what: &str, samples: &mut Vec<u64>| {
        let p = Percentiles::of(samples);
        println!(
            "{what:<44} p50 {:>8.2} ms   p99 {:>8.2} ms   max {:>8.2} ms",
            p.p50 as f64 / 1e3,
            p.p99 as f64 / 1e3,
            *samples.iter().max().unwrap_or(&0) as f64 / 1e3
        );
        p
    };
    println!("{rounds} rounds; times from the kill's (restore's) acknowledgement by node A");
    let base = report("node A denies (baseline: the same node)", &mut same);
    let cross = report("node B denies (the other node)", &mut other);
    let back = report("node B allows again after the restore", &mut restored);
    println!(
        "SUMMARY same_p99_us={} other_p50_us={} other_p99_us={} restore_p99_us={}",
        base.p99, cross.p50, cross.p99, back.p99
    );
    Ok(())
}
