//! A real Sentinel server on a loopback port, with a real database, for integration tests.

#![allow(dead_code)]

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

    pub async fn start(
        url: String,
        dir: Option<tempfile::TempDir>,
        mut config: sentinel_server::Config,
    ) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        config.data_dir = data.path().to_path_buf();
        config.database_url = Some(url);
        let state = sentinel_server::AppState::open(&config).await.unwrap();
        let admin_key = sentinel_server::bootstrap::ensure_admin_key(
            state.store.as_ref(),
            &config.admin_key_path(),
        )
        .await
        .unwrap()
        .expect("a fresh database gets an admin key");
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
