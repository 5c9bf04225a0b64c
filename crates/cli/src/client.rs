//! The HTTP client the resource commands share: where the server is, which key to present, and
//! turning problem responses into readable errors.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// Sentinel's URL
    #[arg(
        long,
        env = "SENTINEL_URL",
        default_value = "http://127.0.0.1:8787",
        global = true
    )]
    pub url: String,
    /// API key [default: the admin key saved in --data-dir]
    #[arg(long, env = "SENTINEL_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
    /// Data directory to read the admin key from when no key is given
    #[arg(
        long,
        env = "SENTINEL_DATA_DIR",
        default_value = "sentinel-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Output format
    #[arg(long, short, value_parser = ["table", "json"], default_value = "table", global = true)]
    pub output: String,
}

impl ClientArgs {
    /// The key to present: `--api-key` / `SENTINEL_API_KEY`, else the admin key saved in the
    /// data directory.
    pub fn key(&self) -> anyhow::Result<String> {
        if let Some(k) = &self.api_key {
            return Ok(k.clone());
        }
        let path = self.data_dir.join("admin.key");
        std::fs::read_to_string(&path)
            .map(|k| k.trim().to_string())
            .map_err(|_| {
                anyhow!(
                    "no API key: pass --api-key or set SENTINEL_API_KEY (no admin key found at {})",
                    path.display()
                )
            })
    }
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    pub json: bool,
}

impl Client {
    pub fn new(args: &ClientArgs) -> anyhow::Result<Client> {
        let key = args.key()?;
        Ok(Client {
            http: reqwest::Client::new(),
            base: args.url.trim_end_matches('/').to_string(),
            key,
            json: args.output == "json",
        })
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        self.send_with(method, path, body, &[]).await
    }

    /// [`Client::send`] with extra request headers.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Value> {
        let mut req = self.request(method, path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.with_context(|| self.unreachable())?;
        let status = resp.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        if !status.is_success() {
            return Err(problem(resp).await);
        }
        Ok(resp.json().await.unwrap_or(Value::Null))
    }

    /// A request to `path` with the key attached, for callers that read the answer themselves
    /// (streams).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    /// The error for a server that cannot be reached.
    pub fn unreachable(&self) -> String {
        format!(
            "cannot reach Sentinel at {}: is `sentinel serve` running?",
            self.base
        )
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(Method::GET, path, None).await
    }
}

/// A failed answer as a readable error: status, the problem's detail and the field at fault.
pub async fn problem(resp: reqwest::Response) -> anyhow::Error {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let detail = body["detail"].as_str().unwrap_or("no details");
    let field = body["field"]
        .as_str()
        .map(|f| format!(" (field: {f})"))
        .unwrap_or_default();
    anyhow!("{} {}{field}", status.as_u16(), detail)
}

/// Percent-encodes one path segment or query value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
