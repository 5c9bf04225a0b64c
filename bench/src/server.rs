//! A `sentinel serve` release binary started for a benchmark (SQLite in a temp directory), and
//! the tenant, agent, tool, key and 100-rule policy the HTTP benchmarks put on it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::loadgen::{request, Conn, Target};
use crate::policy100;

/// The server process; killed (it is ours, by its own handle) when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn start(bin: &PathBuf) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let child = Command::new(bin)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--log-level")
            .arg("warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("starting {} (build sentinel-cli in release)", bin.display())
            })?;
        Ok(Server {
            child,
            addr,
            _dir: dir,
        })
    }

    pub fn admin_key(&self) -> anyhow::Result<String> {
        Ok(std::fs::read_to_string(self._dir.path().join("admin.key"))?
            .trim()
            .to_string())
    }

    pub fn target(&self) -> Target {
        Target {
            addr: self.addr,
            pid: Some(self.child.id()),
        }
    }
}

/// Tenant, agent, tool, the 100-rule policy (activated) and an agent key, over the API.
pub async fn set_up(server: &Server) -> anyhow::Result<String> {
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let admin = server.admin_key()?;
    let post = |path: String, body: Value| {
        let req = http
            .post(format!("{base}{path}"))
            .bearer_auth(&admin)
            .json(&body);
        async move {
            let resp = req.send().await?;
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            anyhow::ensure!(status.is_success(), "POST {path}: {status} {body}");
            anyhow::Ok(body)
        }
    };
    post("/v1/tenants".into(), json!({"slug": "bench"})).await?;
    post(
        "/v1/tenants/bench/agents".into(),
        json!({"name": "bench-bot", "framework": "langgraph", "labels": policy100::agent_labels()}),
    )
    .await?;
    post(
        "/v1/tenants/bench/tools".into(),
        json!({"name": "query_metrics", "kind": "mcp", "server": "prometheus-mcp",
               "scopes": ["metrics:read"], "risk": "safe"}),
    )
    .await?;
    post(
        "/v1/tenants/bench/policies?activate=true".into(),
        serde_json::to_value(policy100::bundle())?,
    )
    .await?;
    let key = post(
        "/v1/tenants/bench/keys".into(),
        json!({"role": "agent", "agent": "bench-bot"}),
    )
    .await?;
    let key = key["secret"].as_str().context("key secret")?.to_string();
    let decision: Value = http
        .post(format!("{base}/v1/check"))
        .bearer_auth(&key)
        .json(&policy100::typical_action())
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        decision["outcome"] == "allow",
        "the typical action should be allowed: {decision}"
    );
    Ok(key)
}

pub async fn wait_ready(addr: SocketAddr) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(mut c) = Conn::open(addr).await {
            if let Ok(200) = c.roundtrip(&request("GET", "/health", None, None)).await {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not answer /health within 30 s")
}
