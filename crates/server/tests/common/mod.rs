//! A real Sentinel server on a loopback port, with a real database, for integration tests.

#![allow(dead_code)]

pub mod llm;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub struct TestServer {
    pub base: String,
    pub admin_key: String,
    pub http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    /// Asserts a problem document with the given status, returning it for further checks.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "body: {}",
            self.body
        );
        for field in ["type", "title", "status", "detail", "code"] {
            assert!(
                !self.body[field].is_null(),
                "problem without {field}: {}",
                self.body
            );
        }
        assert_eq!(self.body["status"], status);
        &self.body
    }

    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }
}

impl TestServer {
    /// A server on a fresh SQLite file.
    pub async fn sqlite() -> TestServer {
        let (dir, url) = sentinel_testkit::sqlite();
        Self::start(url, Some(dir), Default::default()).await
    }

    /// A server on a fresh PostgreSQL database.
    pub async fn postgres() -> TestServer {
        let url = sentinel_testkit::postgres().fresh_database();
        Self::start(url, None, Default::default()).await
    }

    /// A server on a fresh PostgreSQL database, returning the database URL too.
    pub async fn postgres_with_url(config: sentinel_server::Config) -> (TestServer, String) {
        let url = sentinel_testkit::postgres().fresh_database();
        (Self::start(url.clone(), None, config).await, url)
    }

    pub async fn start(
        url: String,
        dir: Option<tempfile::TempDir>,
        mut config: sentinel_server::Config,
    ) -> TestServer {
        // An absolute data directory is the caller's (cluster nodes share their keys through
        // one); otherwise each server gets a fresh one.
        let data = tempfile::tempdir().unwrap();
        if !config.data_dir.is_absolute() {
            config.data_dir = data.path().to_path_buf();
        }
        config.database_url = Some(url);
        let state = sentinel_server::AppState::open(&config).await.unwrap();
        let store = state.store.clone();
        let admin_key = match sentinel_server::bootstrap::ensure_admin_key(
            store.as_ref(),
            &config.admin_key_path(),
        )
        .await
        .unwrap()
        {
            Some(key) => key,
            // A second node on a database that already has one: give this server its own.
            None => {
                sentinel_server::bootstrap::issue_key(
                    store.as_ref(),
                    None,
                    sentinel_core::Role::Admin,
                    None,
                    "test node",
                )
                .await
                .unwrap()
                .secret
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = sentinel_server::app(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestServer {
            base,
            admin_key,
            http: reqwest::Client::new(),
            _dir: dir.or(Some(data)),
        }
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some((ct, bytes)) = body {
            req = req.header("content-type", ct).body(bytes);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = resp.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            body,
        }
    }

    pub async fn call(&self, method: Method, path: &str, key: &str, body: Option<Value>) -> Reply {
        let body = body.map(|b| ("application/json", serde_json::to_vec(&b).unwrap()));
        self.raw(method, path, Some(key), body).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call(Method::GET, path, key, None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(Method::POST, path, key, Some(body)).await
    }

    /// The Prometheus text of `/metrics`, read with the admin key.
    pub async fn metrics_text(&self) -> String {
        let resp = self
            .http
            .get(format!("{}/metrics", self.base))
            .bearer_auth(&self.admin_key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    }

    /// Creates a tenant and returns its slug.
    pub async fn tenant(&self, slug: &str) -> String {
        self.post("/v1/tenants", &self.admin_key, json!({"slug": slug}))
            .await
            .ok(201);
        slug.to_string()
    }

    /// Creates a key of `role` in `tenant` and returns its secret.
    pub async fn key(&self, tenant: &str, role: &str, agent: Option<&str>) -> String {
        let mut body = json!({"role": role});
        if let Some(a) = agent {
            body["agent"] = json!(a);
        }
        let r = self
            .post(&format!("/v1/tenants/{tenant}/keys"), &self.admin_key, body)
            .await;
        r.ok(201)["secret"].as_str().unwrap().to_string()
    }
}

/// The shipped bundle `name` (from `policies/`) as the JSON a client pushes.
pub fn shipped_bundle(name: &str) -> Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies")
        .join(name);
    let mut modules = serde_json::Map::new();
    let mut data = json!({});
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        if name.ends_with(".rego") {
            modules.insert(name, json!(text));
        } else if name == "data.json" {
            data = serde_json::from_str(&text).unwrap();
        }
    }
    json!({"modules": modules, "data": data})
}

/// A tenant `acme` with agent `sre-bot`, the SRE bundle active, and the agent's key.
pub struct Acme {
    pub s: TestServer,
    pub agent_key: String,
    pub operator_key: String,
}

impl Acme {
    pub async fn on(s: TestServer) -> Acme {
        s.tenant("acme").await;
        s.post(
            "/v1/tenants/acme/agents",
            &s.admin_key,
            json!({"name": "sre-bot"}),
        )
        .await
        .ok(201);
        let r = s
            .post(
                "/v1/tenants/acme/policies?activate=true",
                &s.admin_key,
                shipped_bundle("sre"),
            )
            .await;
        r.ok(201);
        let agent_key = s.key("acme", "agent", Some("sre-bot")).await;
        let operator_key = s.key("acme", "operator", None).await;
        Acme {
            s,
            agent_key,
            operator_key,
        }
    }

    /// Pushes `bundle` as acme's policy and activates it.
    pub async fn activate(&self, bundle: Value) {
        self.s
            .post(
                "/v1/tenants/acme/policies?activate=true",
                &self.s.admin_key,
                bundle,
            )
            .await
            .ok(201);
    }

    pub async fn check(&self, tool: &str, args: Value) -> Value {
        let r = self
            .s
            .post(
                "/v1/check",
                &self.agent_key,
                json!({"kind": "tool_call", "target": {"tool": tool}, "arguments": args}),
            )
            .await;
        r.ok(200).clone()
    }
}

/// Waits until a checkpoint covers at least `size` entries.
pub async fn checkpoint_of(s: &TestServer, size: u64) -> String {
    for _ in 0..50 {
        let r = s
            .http
            .get(format!("{}/v1/audit/checkpoint", s.base))
            .bearer_auth(&s.admin_key)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            let note = r.text().await.unwrap();
            let n: u64 = note.lines().nth(1).unwrap().parse().unwrap();
            if n >= size {
                return note;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no checkpoint of size {size} within 5 s");
}

/// Makes every insert into `table` of the SQLite database at `url` fail with `message` (a full
/// disk, a broken table), until the trigger `name` is dropped through the returned pool.
pub async fn fail_inserts(url: &str, table: &str, name: &str, message: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::query(&format!(
        "CREATE TRIGGER {name} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END"
    ))
    .execute(&pool)
    .await
    .unwrap();
    pool
}
