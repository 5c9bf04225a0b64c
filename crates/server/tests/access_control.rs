//! Every role against every endpoint, and every cross-tenant attempt: the permission matrix as
//! a user meets it over HTTP.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

struct World {
    s: TestServer,
    operator: String,
    auditor: String,
    agent: String,
    other_operator: String,
}

async fn world() -> World {
    let s = TestServer::sqlite().await;
    for t in ["acme", "globex"] {
        s.tenant(t).await;
        s.post(
            &format!("/v1/tenants/{t}/agents"),
            &s.admin_key,
            json!({"name": "bot"}),
        )
        .await
        .ok(201);
        s.post(
            &format!("/v1/tenants/{t}/tools"),
            &s.admin_key,
            json!({"name": "t", "kind": "builtin"}),
        )
        .await
        .ok(201);
    }
    World {
        operator: s.key("acme", "operator", None).await,
        auditor: s.key("acme", "auditor", None).await,
        agent: s.key("acme", "agent", Some("bot")).await,
        other_operator: s.key("globex", "operator", None).await,
        s,
    }
}

/// (method, path, body) for every tenant-scoped endpoint of tenant `t`.
fn tenant_endpoints(t: &str) -> Vec<(Method, String, Option<Value>, &'static str)> {
    vec![
        (Method::GET, format!("/v1/tenants/{t}"), None, "read"),
        (
            Method::PATCH,
            format!("/v1/tenants/{t}"),
            Some(json!({"display_name": "x"})),
            "manage",
        ),
        (Method::GET, format!("/v1/tenants/{t}/agents"), None, "read"),
        (
            Method::POST,
            format!("/v1/tenants/{t}/agents"),
            Some(json!({"name": "new-bot"})),
            "manage",
        ),
        (
            Method::GET,
            format!("/v1/tenants/{t}/agents/bot"),
            None,
            "read",
        ),
        (
            Method::PATCH,
            format!("/v1/tenants/{t}/agents/bot"),
            Some(json!({"owner": "me"})),
            "manage",
        ),
        (Method::GET, format!("/v1/tenants/{t}/tools"), None, "read"),
        (
            Method::POST,
            format!("/v1/tenants/{t}/tools"),
            Some(json!({"name": "new-tool", "kind": "http"})),
            "manage",
        ),
        (
            Method::GET,
            format!("/v1/tenants/{t}/tools/t"),
            None,
            "read",
        ),
        (
            Method::PATCH,
            format!("/v1/tenants/{t}/tools/t"),
            Some(json!({"risk": "safe"})),
            "manage",
        ),
        (Method::GET, format!("/v1/tenants/{t}/keys"), None, "read"),
        (
            Method::POST,
            format!("/v1/tenants/{t}/keys"),
            Some(json!({"role": "auditor"})),
            "manage",
        ),
        (
            Method::DELETE,
            format!("/v1/tenants/{t}/tools/t"),
            None,
            "manage",
        ),
        (
            Method::DELETE,
            format!("/v1/tenants/{t}/agents/bot"),
            None,
            "manage",
        ),
    ]
}

fn admin_endpoints() -> Vec<(Method, String, Option<Value>)> {
    vec![
        (
            Method::POST,
            "/v1/tenants".into(),
            Some(json!({"slug": "initech"})),
        ),
        (Method::GET, "/v1/admin/keys".into(), None),
        (Method::POST, "/v1/admin/keys".into(), Some(json!({}))),
        (Method::GET, "/metrics".into(), None),
        // Last: deleting the tenant also deletes the keys the other rows use.
        (Method::DELETE, "/v1/tenants/acme".into(), None),
    ]
}

#[tokio::test]
async fn roles_inside_their_tenant() {
    let w = world().await;
    // Reads first, then writes, so that deletes do not remove what later rows use.
    for (method, path, body, need) in tenant_endpoints("acme") {
        // The agent and auditor go first: the operator's deletes would remove what they ask for.
        w.s.call(method.clone(), &path, &w.agent, body.clone())
            .await
            .problem(403);
        let auditor =
            w.s.call(method.clone(), &path, &w.auditor, body.clone())
                .await;
        if need == "read" {
            assert!(
                auditor.status.is_success(),
                "auditor {method} {path}: {}",
                auditor.body
            );
        } else {
            auditor.problem(403);
        }
        let operator =
            w.s.call(method.clone(), &path, &w.operator, body.clone())
                .await;
        assert!(
            operator.status.is_success(),
            "operator {method} {path}: {}",
            operator.body
        );
    }
}

#[tokio::test]
async fn every_cross_tenant_attempt_is_refused() {
    let w = world().await;
    for (method, path, body, _) in tenant_endpoints("globex") {
        for key in [&w.operator, &w.auditor, &w.agent] {
            let r = w.s.call(method.clone(), &path, key, body.clone()).await;
            // 404, not 403: another tenant's existence is not revealed.
            r.problem(404);
        }
    }
    // Also by id rather than slug.
    let globex = w.s.get("/v1/tenants/globex", &w.other_operator).await;
    let id = globex.ok(200)["id"].as_str().unwrap().to_string();
    w.s.get(&format!("/v1/tenants/{id}/agents"), &w.operator)
        .await
        .problem(404);
    // The tenant list shows only one's own tenant.
    let listed = w.s.get("/v1/tenants", &w.operator).await;
    let slugs: Vec<&str> = listed.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["acme"]);
    // Nothing of globex changed.
    assert_eq!(
        w.s.get("/v1/tenants/globex/agents/bot", &w.s.admin_key)
            .await
            .ok(200)["owner"],
        Value::Null
    );
}

#[tokio::test]
async fn admin_endpoints_need_an_admin_key() {
    let w = world().await;
    for (method, path, body) in admin_endpoints() {
        for key in [&w.operator, &w.auditor, &w.agent] {
            let r = w.s.call(method.clone(), &path, key, body.clone()).await;
            assert!(
                r.status == 403 || r.status == 404,
                "{method} {path}: {} {}",
                r.status,
                r.body
            );
            assert_eq!(r.content_type, "application/problem+json");
        }
        let r =
            w.s.call(method.clone(), &path, &w.s.admin_key, body.clone())
                .await;
        assert!(r.status.is_success(), "admin {method} {path}: {}", r.body);
    }
}

#[tokio::test]
async fn a_key_of_another_tenants_agent_cannot_be_created() {
    let w = world().await;
    let r =
        w.s.post(
            "/v1/tenants/acme/keys",
            &w.operator,
            json!({"role": "agent", "agent": "nope"}),
        )
        .await;
    assert_eq!(r.problem(422)["field"], "agent");
    let globex_bot =
        w.s.get("/v1/tenants/globex/agents/bot", &w.s.admin_key)
            .await;
    let id = globex_bot.ok(200)["id"].as_str().unwrap().to_string();
    let r =
        w.s.post(
            "/v1/tenants/acme/keys",
            &w.operator,
            json!({"role": "agent", "agent": id}),
        )
        .await;
    r.problem(422);
    let r =
        w.s.post(
            "/v1/tenants/acme/keys",
            &w.operator,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(
        r.problem(422)["field"],
        "role",
        "operators cannot mint admin keys"
    );
}

#[tokio::test]
async fn missing_malformed_unknown_and_revoked_keys_are_401() {
    let w = world().await;
    let s = &w.s;
    s.raw(Method::GET, "/v1/whoami", None, None)
        .await
        .problem(401);
    s.raw(Method::GET, "/v1/whoami", Some("not-a-key"), None)
        .await
        .problem(401);
    let forged = format!("{}x", &w.operator[..w.operator.len() - 1]);
    s.raw(Method::GET, "/v1/whoami", Some(&forged), None)
        .await
        .problem(401);
    // A deleted agent's key stops working at once.
    s.call(
        Method::DELETE,
        "/v1/tenants/acme/agents/bot",
        &s.admin_key,
        None,
    )
    .await
    .ok(204);
    s.get("/v1/whoami", &w.agent).await.problem(401);
}

#[tokio::test]
async fn a_busy_cached_key_is_refused_on_the_next_request_after_revocation() {
    let w = world().await;
    let s = &w.s;
    // Warm the key cache and its once-a-minute use record with concurrent calls.
    let calls = (0..16).map(|_| s.get("/v1/whoami", &w.operator));
    for r in futures_util::future::join_all(calls).await {
        r.ok(200);
    }
    let listed = s.get("/v1/tenants/acme/keys", &s.admin_key).await;
    let key = listed.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "operator")
        .cloned()
        .unwrap();
    let id = key["id"].as_str().unwrap();
    s.call(
        Method::DELETE,
        &format!("/v1/tenants/acme/keys/{id}"),
        &s.admin_key,
        None,
    )
    .await
    .ok(204);
    s.get("/v1/whoami", &w.operator).await.problem(401);
    // The other keys still work: only the revoked one left the cache.
    s.get("/v1/whoami", &w.auditor).await.ok(200);
}
