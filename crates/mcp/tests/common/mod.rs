//! A real Sentinel server with the MCP gateway on a loopback port, a tenant `acme` with agent
//! `bot`, the baseline bundle (plus test rules) active, and the test fixture as an upstream.

#![allow(dead_code)]

use std::time::Duration;

use reqwest::Method;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use sentinel_mcp::http_client::{HttpClient, HttpOptions};
use serde_json::{json, Value};

pub struct Env {
    pub base: String,
    pub admin_key: String,
    pub agent_key: String,
    pub operator_key: String,
    pub http: reqwest::Client,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// The test rules beside the baseline bundle: a denial and a hold.
const RULES: &str = r#"package sentinel

deny contains "mail to competitors is not allowed" if {
	input.action.target.tool == "fixture__send_email"
	endswith(input.action.arguments.to, "@competitor.example")
}

deny contains "time conversions are not allowed here" if input.action.target.tool == "time__convert_time"

approval contains "mail to the CEO needs a human" if {
	input.action.target.tool == "fixture__send_email"
	input.action.arguments.to == "ceo@acme.example"
}
"#;

pub fn fixture() -> &'static str {
    env!("CARGO_BIN_EXE_sentinel-mcp-fixture")
}

pub fn stdio_fixture(env: Value) -> Value {
    json!({"type": "stdio", "command": fixture(), "env": env})
}

/// The fixture serving streamable HTTP on a loopback port: the process (killed on drop) and
/// its address.
pub async fn http_fixture() -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(fixture())
        .args(["--http", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut addr = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut out, &mut addr)
        .await
        .unwrap();
    (child, addr.trim().to_string())
}

impl Env {
    /// A server whose gateway waits `approval_wait` seconds for an operator.
    pub async fn start(approval_wait: u64) -> Env {
        let (db_dir, url) = sentinel_testkit::sqlite();
        let data = tempfile::tempdir().unwrap();
        let config = sentinel_server::Config {
            data_dir: data.path().to_path_buf(),
            database_url: Some(url),
            mcp: sentinel_mcp::McpConfig {
                approval_wait_seconds: approval_wait,
                max_backoff_seconds: 1,
                ..Default::default()
            },
            ..Default::default()
        };
        let state = sentinel_server::AppState::open(&config).await.unwrap();
        let admin_key = sentinel_server::bootstrap::ensure_admin_key(
            state.store.as_ref(),
            &config.admin_key_path(),
        )
        .await
        .unwrap()
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = sentinel_server::app(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let mut env = Env {
            base,
            admin_key: admin_key.clone(),
            agent_key: String::new(),
            operator_key: String::new(),
            http: reqwest::Client::new(),
            _dirs: (db_dir, data),
        };
        env.call(
            Method::POST,
            "/v1/tenants",
            &admin_key,
            Some(json!({"slug": "acme"})),
        )
        .await;
        env.call(
            Method::POST,
            "/v1/tenants/acme/agents",
            &admin_key,
            Some(json!({"name": "bot"})),
        )
        .await;
        env.agent_key = env.key("agent", Some("bot")).await;
        env.operator_key = env.key("operator", None).await;
        env.activate(json!({})).await;
        env
    }

    /// Activates the baseline bundle with the test rules and `risk_matrix`.
    pub async fn activate(&self, extra_risks: Value) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/baseline");
        let mut modules = serde_json::Map::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".rego") && !name.ends_with("_test.rego") {
                modules.insert(name, json!(std::fs::read_to_string(entry.path()).unwrap()));
            }
        }
        modules.insert("rules.rego".into(), json!(RULES));
        let mut risks = json!({
            "fixture__echo": "safe", "fixture__leak": "safe", "fixture__fetch_page": "safe",
            "fixture__send_email": "safe", "fixture__slow": "safe",
            "time__get_current_time": "safe", "time__convert_time": "safe",
        });
        for (k, v) in extra_risks.as_object().unwrap() {
            risks[k] = v.clone();
        }
        let bundle = json!({"modules": modules, "data": {"risk_matrix": risks}});
        self.call(
            Method::POST,
            "/v1/tenants/acme/policies?activate=true",
            &self.admin_key,
            Some(bundle),
        )
        .await;
    }

    pub async fn key(&self, role: &str, agent: Option<&str>) -> String {
        let mut body = json!({"role": role});
        if let Some(a) = agent {
            body["agent"] = json!(a);
        }
        let v = self
            .call(
                Method::POST,
                "/v1/tenants/acme/keys",
                &self.admin_key,
                Some(body),
            )
            .await;
        v["secret"].as_str().unwrap().to_string()
    }

    /// An API call that must succeed; returns its JSON body.
    pub async fn call(&self, method: Method, path: &str, key: &str, body: Option<Value>) -> Value {
        let (status, v) = self.try_call(method, path, key, body).await;
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let v = resp.json().await.unwrap_or(Value::Null);
        (status, v)
    }

    pub async fn add_server(&self, name: &str, transport: Value) {
        self.call(
            Method::POST,
            "/v1/tenants/acme/mcp/servers",
            &self.admin_key,
            Some(json!({"name": name, "transport": transport})),
        )
        .await;
        self.assess(name).await;
    }

    /// Waits for upstream `server` to be up, then assesses its discovered tools as `safe` (the
    /// gateway registers them as `critical` until someone does).
    pub async fn assess(&self, server: &str) {
        let path = format!("/v1/tenants/acme/mcp/servers/{server}");
        for _ in 0..200 {
            let v = self
                .call(Method::GET, &path, &self.operator_key, None)
                .await;
            if v["state"] == "up" {
                for tool in v["tools"].as_array().unwrap() {
                    let name = format!("{server}__{}", tool.as_str().unwrap());
                    self.call(
                        Method::PATCH,
                        &format!("/v1/tenants/acme/tools/{name}"),
                        &self.operator_key,
                        Some(json!({"risk": "safe"})),
                    )
                    .await;
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("upstream {server} did not come up");
    }

    /// An rmcp client connected to the gateway with `key`.
    pub async fn client(&self, key: &str) -> RunningService<RoleClient, ClientConfig> {
        let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", self.base))
            .auth_header(key.to_string());
        let http = HttpClient::new(&HttpOptions::default()).unwrap();
        ClientConfig::default()
            .serve(StreamableHttpClientTransport::with_client(http, config))
            .await
            .expect("an MCP session with the gateway")
    }

    /// Pending approval requests of acme, waiting up to 10 s for at least one.
    pub async fn pending(&self) -> Vec<Value> {
        for _ in 0..100 {
            let v = self
                .call(
                    Method::GET,
                    "/v1/tenants/acme/approvals?status=pending",
                    &self.operator_key,
                    None,
                )
                .await;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if !items.is_empty() {
                return items;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no approval request appeared");
    }

    pub async fn answer(&self, id: &str, granted: bool) {
        self.call(
            Method::POST,
            &format!("/v1/approvals/{id}/decision"),
            &self.operator_key,
            Some(json!({"granted": granted, "reason": "looked at it"})),
        )
        .await;
    }
}

pub async fn tool_names(client: &RunningService<RoleClient, ClientConfig>) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    names
}

pub async fn call(
    client: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let params = CallToolRequestParams::new(tool.to_string())
        .with_arguments(args.as_object().unwrap().clone());
    client.call_tool(params).await.expect("a tools/call result")
}

/// The text of a result's content.
pub fn text(result: &CallToolResult) -> String {
    serde_json::to_value(result).unwrap()["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}
