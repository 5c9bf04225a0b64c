//! What the MCP gateway adds to `tools/call`: the same upstream tool (`echo` of the rmcp test
//! fixture, over streamable HTTP) called directly and through Sentinel's `/mcp`, with the
//! baseline policy, argument and result scans and durable (strict) audit on, at several
//! concurrencies — and through `bare_mcp_proxy`, an MCP proxy on the same stacks that governs
//! nothing: the extra hop's own cost, the floor under any MCP gateway built this way. Every
//! path uses the rmcp client; calls alternate between the paths in every round so that noise
//! hits them alike.
//!
//! ```sh
//! cargo build --release -p sentinel-cli -p sentinel-mcp -p sentinel-bench
//! target/release/mcp_latency --calls 2000 --loads 1,4,16
//! ```

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use sentinel_bench::flags::Flags;
use sentinel_bench::server_metrics::Sums;
use sentinel_bench::stats::Percentiles;
use sentinel_mcp::http_client::{HttpClient, HttpOptions};
use serde_json::{json, Value};

type Client = RunningService<RoleClient, ClientConfig>;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const USAGE: &str = "mcp_latency [--calls N (2000)] [--loads SESSIONS,... (1,4,16)]
            [--sentinel PATH] [--fixture PATH (sentinel-mcp-fixture)] [--bare-proxy PATH]
What the MCP gateway adds to tools/call, against the same upstream called directly and beside a
bare MCP proxy on the same stacks. Programs default to those beside this one.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let calls: usize = flags.get("calls", 2000usize)?;
    let loads: Vec<usize> = flags
        .text("loads")
        .unwrap_or("1,4,16")
        .split(',')
        .map(|l| l.parse())
        .collect::<Result<_, _>>()
        .context("--loads takes numbers of sessions, like 1,4,16")?;
    let sentinel = flags.program("sentinel", "sentinel")?;
    let fixture = flags.program("fixture", "sentinel-mcp-fixture")?;
    let bare_proxy = flags.program("bare-proxy", "bare_mcp_proxy")?;
    flags.finish()?;

    // The upstream.
    let mut up = Command::new(&fixture)
        .args(["--http", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", fixture.display()))?;
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(up.stdout.take().unwrap()),
        &mut line,
    )?;
    let _up = Killed(up);
    let upstream = format!("http://{}/mcp", line.trim());

    // The bare proxy in front of the same upstream.
    let bare_port = free_port()?;
    let bare_url = format!("http://127.0.0.1:{bare_port}/mcp");
    let bare = Command::new(&bare_proxy)
        .args(["--listen", &format!("127.0.0.1:{bare_port}")])
        .args(["--upstream", &upstream])
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bare_proxy.display()))?;
    let _bare = Killed(bare);

    // Sentinel, on SQLite in a temp directory.
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let server = Command::new(&sentinel)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env("SENTINEL_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", sentinel.display()))?;
    let _server = Killed(server);
    let http = reqwest::Client::new();
    let admin = wait_for_admin_key(&http, &base, dir.path()).await?;
    let api = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}{path}"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    use reqwest::Method;
    api(Method::POST, "/v1/tenants", json!({"slug": "bench"}))
        .await?
        .error_for_status()?;
    api(
        Method::POST,
        "/v1/tenants/bench/agents",
        json!({"name": "bot"}),
    )
    .await?
    .error_for_status()?;
    api(
        Method::POST,
        "/v1/tenants/bench/policies?activate=true",
        baseline()?,
    )
    .await?
    .error_for_status()?;
    let key: Value = api(
        Method::POST,
        "/v1/tenants/bench/keys",
        json!({"role": "agent", "agent": "bot"}),
    )
    .await?
    .error_for_status()?
    .json()
    .await?;
    let key = key["secret"].as_str().unwrap().to_string();
    api(
        Method::POST,
        "/v1/tenants/bench/mcp/servers",
        json!({"name": "fixture", "transport": {"type": "http", "url": upstream}}),
    )
    .await?
    .error_for_status()?;
    // Discover the tools, then assess echo as safe.
    for _ in 0..200 {
        let v: Value = api(
            Method::GET,
            "/v1/tenants/bench/mcp/servers/fixture",
            json!(null),
        )
        .await?
        .json()
        .await?;
        if v["state"] == "up" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    api(
        Method::PATCH,
        "/v1/tenants/bench/tools/fixture__echo",
        json!({"risk": "safe"}),
    )
    .await?
    .error_for_status()?;

    println!("tools/call of an echo tool over streamable HTTP, {calls} calls per path and load");
    println!("load  direct p50/p99 µs   gateway p50/p99 µs   added p50/p99 µs   bare proxy added p50/p99 µs   server means µs: call / decide / audit commit / journal sync");
    let metrics = || Sums::read(&http, &base, &admin, &[CALL, DECIDE, COMMIT, SYNC]);
    for &load in &loads {
        let mut direct_clients = Vec::new();
        let mut gateway_clients = Vec::new();
        let mut bare_clients = Vec::new();
        for _ in 0..load {
            direct_clients.push(connect(&upstream, None).await?);
            gateway_clients.push(connect(&format!("{base}/mcp"), Some(&key)).await?);
            bare_clients.push(connect_when_up(&bare_url).await?);
        }
        // Warm up every path.
        run(&direct_clients, "echo", 50 * load).await?;
        run(&gateway_clients, "fixture__echo", 50 * load).await?;
        run(&bare_clients, "echo", 50 * load).await?;
        let (mut direct, mut gateway, mut bare) = (Vec::new(), Vec::new(), Vec::new());
        let before = metrics().await?;
        let rounds = 10;
        for _ in 0..rounds {
            direct.extend(run(&direct_clients, "echo", calls / rounds).await?);
            gateway.extend(run(&gateway_clients, "fixture__echo", calls / rounds).await?);
            bare.extend(run(&bare_clients, "echo", calls / rounds).await?);
        }
        let after = metrics().await?;
        let mean_us = |name: &str| after.mean_us_since(&before, name);
        let d = Percentiles::of(&mut direct);
        let g = Percentiles::of(&mut gateway);
        let b = Percentiles::of(&mut bare);
        println!(
            "{load:>4}  {:>8} / {:<8}  {:>8} / {:<8}  {:>8} / {:<8}  {:>13} / {:<13}  {:>6.0} / {:.0} / {:.0} / {:.0}",
            d.p50,
            d.p99,
            g.p50,
            g.p99,
            g.p50 as i64 - d.p50 as i64,
            g.p99 as i64 - d.p99 as i64,
            b.p50 as i64 - d.p50 as i64,
            b.p99 as i64 - d.p99 as i64,
            mean_us(CALL),
            mean_us(DECIDE),
            mean_us(COMMIT),
            mean_us(SYNC),
        );
    }
    Ok(())
}

/// The server's own timings (Prometheus histograms): the whole `tools/call` inside the gateway,
/// the decision in it, the audit commit the decision waits for, and the journal's write and
/// `fdatasync` in that commit.
const CALL: &str = "sentinel_mcp_call_duration_seconds";
const DECIDE: &str = "sentinel_decision_duration_seconds";
const COMMIT: &str = "sentinel_audit_commit_seconds";
const SYNC: &str = "sentinel_audit_journal_sync_seconds";

/// `count` calls spread over `clients` concurrently; latencies in µs.
async fn run(clients: &[Client], tool: &str, count: usize) -> anyhow::Result<Vec<u64>> {
    let per = count.div_ceil(clients.len());
    let mut tasks = Vec::new();
    for c in clients {
        let peer = c.peer().clone();
        let tool = tool.to_string();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(per);
            for i in 0..per {
                let args = json!({"text": format!("hello {i}")});
                let params = CallToolRequestParams::new(tool.clone())
                    .with_arguments(args.as_object().unwrap().clone());
                let t = Instant::now();
                let r = peer.call_tool_once(params).await?;
                out.push(t.elapsed().as_micros() as u64);
                if let rmcp::model::CallToolResponse::Complete(r) = r {
                    if r.is_error == Some(true) {
                        bail!("{tool} failed: {r:?}");
                    }
                }
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

async fn connect(url: &str, key: Option<&str>) -> anyhow::Result<Client> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_string());
    if let Some(k) = key {
        config = config.auth_header(k.to_string());
    }
    let http = HttpClient::new(&HttpOptions::default()).map_err(anyhow::Error::msg)?;
    Ok(ClientConfig::default()
        .serve(StreamableHttpClientTransport::with_client(http, config))
        .await?)
}

/// Connects to a server that may still be starting.
async fn connect_when_up(url: &str) -> anyhow::Result<Client> {
    let mut last = None;
    for _ in 0..100 {
        match connect(url, None).await {
            Ok(c) => return Ok(c),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("{url} did not answer")))
}

fn baseline() -> anyhow::Result<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies/baseline");
    let mut modules = serde_json::Map::new();
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".rego") && !name.ends_with("_test.rego") {
            modules.insert(name, json!(std::fs::read_to_string(entry.path())?));
        }
    }
    Ok(json!({"modules": modules, "data": {}}))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_for_admin_key(
    http: &reqwest::Client,
    base: &str,
    dir: &std::path::Path,
) -> anyhow::Result<String> {
    for _ in 0..300 {
        if let (Ok(key), Ok(r)) = (
            std::fs::read_to_string(dir.join("admin.key")),
            http.get(format!("{base}/health")).send().await,
        ) {
            if r.status().is_success() {
                return Ok(key.trim().to_string());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("sentinel did not start")
}
