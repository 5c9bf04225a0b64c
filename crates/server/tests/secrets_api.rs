//! Tenant secrets over real HTTP: values go in and never come out (not in answers, not in the
//! audit log, not in the database), versions, roles, bad input and tenant isolation — on SQLite
//! and PostgreSQL.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

const VALUE: &str = "ghp_0123456789abcdefSECRETVALUE";

async fn put(s: &TestServer, key: &str, tenant: &str, name: &str, body: Value) -> common::Reply {
    s.call(
        Method::PUT,
        &format!("/v1/tenants/{tenant}/secrets/{name}"),
        key,
        Some(body),
    )
    .await
}

async fn lifecycle(s: TestServer, database_url: Option<String>) {
    s.tenant("acme").await;
    s.tenant("globex").await;
    let operator = s.key("acme", "operator", None).await;
    let auditor = s.key("acme", "auditor", None).await;
    let other = s.key("globex", "operator", None).await;

    let r = put(
        &s,
        &operator,
        "acme",
        "github_token",
        json!({"value": VALUE, "description": "CI bot"}),
    )
    .await;
    let meta = r.ok(201);
    assert_eq!(meta["version"], 1);
    assert_eq!(meta["description"], "CI bot");
    assert!(!r.body.to_string().contains(VALUE));

    let r = put(
        &s,
        &operator,
        "acme",
        "github_token",
        json!({"value": "ghp_rotated"}),
    )
    .await;
    assert_eq!(r.ok(200)["version"], 2);
    assert_eq!(
        r.body["description"], "CI bot",
        "a replaced value keeps its description"
    );

    let list = s.get("/v1/tenants/acme/secrets", &auditor).await;
    assert_eq!(list.ok(200).as_array().unwrap().len(), 1);
    assert!(!list.body.to_string().contains("ghp_"));
    let one = s
        .get("/v1/tenants/acme/secrets/github_token", &auditor)
        .await;
    assert_eq!(one.ok(200)["name"], "github_token");

    // Auditors read metadata but do not write; other tenants see nothing.
    put(&s, &auditor, "acme", "x", json!({"value": "v"}))
        .await
        .problem(403);
    s.get("/v1/tenants/acme/secrets", &other).await.problem(404);
    put(&s, &other, "acme", "x", json!({"value": "v"}))
        .await
        .problem(404);
    s.get("/v1/tenants/globex/secrets", &other).await.ok(200);
    assert_eq!(
        s.get("/v1/tenants/globex/secrets", &other).await.body,
        json!([])
    );

    // Bad input: a clear 4xx naming the field.
    let p = put(&s, &operator, "acme", "bad%20name", json!({"value": "v"})).await;
    assert_eq!(p.problem(422)["field"], "name");
    let p = put(&s, &operator, "acme", "ok", json!({"value": ""})).await;
    assert_eq!(p.problem(422)["field"], "value");
    let p = put(
        &s,
        &operator,
        "acme",
        "ok",
        json!({"value": "x".repeat(16 * 1024 + 1)}),
    )
    .await;
    assert_eq!(p.problem(422)["field"], "value");
    put(
        &s,
        &operator,
        "acme",
        "ok",
        json!({"value": "v", "extra": 1}),
    )
    .await
    .problem(400);
    s.get("/v1/tenants/acme/secrets/missing", &operator)
        .await
        .problem(404);

    // The audit log records who changed which secret, never the value.
    let audit = s.get("/v1/audit/entries?limit=1000", &operator).await;
    let text = audit.ok(200).to_string();
    assert!(!text.contains(VALUE) && !text.contains("ghp_rotated"));
    let actions: Vec<Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "configuration")
        .map(|e| e["entry"]["details"]["action"].clone())
        .collect();
    assert_eq!(actions, [json!("secret.put"), json!("secret.put")]);

    // At rest the value is sealed.
    if let Some(url) = database_url {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as("SELECT sealed FROM secrets")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].0.contains("ghp_rotated"));
    }

    s.call(
        Method::DELETE,
        "/v1/tenants/acme/secrets/github_token",
        &operator,
        None,
    )
    .await
    .ok(204);
    s.get("/v1/tenants/acme/secrets/github_token", &operator)
        .await
        .problem(404);
    s.call(
        Method::DELETE,
        "/v1/tenants/acme/secrets/github_token",
        &operator,
        None,
    )
    .await
    .problem(404);
}

#[tokio::test]
async fn secrets_on_sqlite() {
    let (dir, url) = sentinel_testkit::sqlite();
    let s = TestServer::start(url.clone(), Some(dir), Default::default()).await;
    lifecycle(s, Some(url)).await;
}

#[tokio::test]
async fn secrets_on_postgres() {
    let (s, url) = TestServer::postgres_with_url(Default::default()).await;
    lifecycle(s, Some(url)).await;
}
