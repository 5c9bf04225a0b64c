//! CRUD and pagination of tenants, agents, tools and keys over HTTP, on SQLite and PostgreSQL.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::json;

async fn crud_of_every_resource(s: TestServer) {
    let admin = s.admin_key.clone();
    // Tenants
    let t = s
        .post(
            "/v1/tenants",
            &admin,
            json!({"slug": "acme", "display_name": "Acme"}),
        )
        .await;
    assert_eq!(t.ok(201)["slug"], "acme");
    s.post("/v1/tenants", &admin, json!({"slug": "acme"}))
        .await
        .problem(409);
    let renamed = s
        .call(
            Method::PATCH,
            "/v1/tenants/acme",
            &admin,
            Some(json!({"display_name": "Acme Corp"})),
        )
        .await;
    assert_eq!(renamed.ok(200)["display_name"], "Acme Corp");
    let by_id = s
        .get(
            &format!("/v1/tenants/{}", t.body["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(by_id.ok(200)["display_name"], "Acme Corp");

    // Agents
    let a = s
        .post(
            "/v1/tenants/acme/agents",
            &admin,
            json!({
                "name": "sre-bot", "framework": "langgraph", "owner": "sre@acme.test",
                "description": "restarts pods", "labels": {"team": "sre"}
            }),
        )
        .await;
    assert_eq!(a.ok(201)["status"], "active");
    s.post(
        "/v1/tenants/acme/agents",
        &admin,
        json!({"name": "sre-bot"}),
    )
    .await
    .problem(409);
    s.post(
        "/v1/tenants/acme/agents",
        &admin,
        json!({"name": "triage", "framework": "crewai"}),
    )
    .await
    .ok(201);
    let got = s.get("/v1/tenants/acme/agents/sre-bot", &admin).await;
    assert_eq!(got.ok(200)["labels"]["team"], "sre");
    let patched = s
        .call(
            Method::PATCH,
            "/v1/tenants/acme/agents/sre-bot",
            &admin,
            Some(json!({"labels": {"team": "platform"}, "owner": "plat@acme.test"})),
        )
        .await;
    assert_eq!(patched.ok(200)["labels"], json!({"team": "platform"}));
    assert_eq!(
        patched.body["framework"], "langgraph",
        "fields not in the patch are kept"
    );
    let crew = s
        .get("/v1/tenants/acme/agents?framework=crewai", &admin)
        .await;
    assert_eq!(crew.ok(200)["items"].as_array().unwrap().len(), 1);
    let platform = s
        .get("/v1/tenants/acme/agents?label=team%3Dplatform", &admin)
        .await;
    assert_eq!(platform.ok(200)["items"][0]["name"], "sre-bot");

    // Tools
    let tool = s
        .post(
            "/v1/tenants/acme/tools",
            &admin,
            json!({
                "name": "rollback_deployment", "kind": "mcp", "server": "k8s-mcp",
                "scopes": ["k8s:write"], "metadata": {"docs": "https://runbooks.test/rollback"}
            }),
        )
        .await;
    assert_eq!(
        tool.ok(201)["risk"],
        "critical",
        "unassessed tools are critical"
    );
    s.post(
        "/v1/tenants/acme/tools",
        &admin,
        json!({"name": "query_metrics", "kind": "http",
        "url": "https://prom.test", "risk": "safe"}),
    )
    .await
    .ok(201);
    let safe = s.get("/v1/tenants/acme/tools?risk=safe", &admin).await;
    assert_eq!(safe.ok(200)["items"][0]["name"], "query_metrics");
    let off = s
        .call(
            Method::PATCH,
            "/v1/tenants/acme/tools/rollback_deployment",
            &admin,
            Some(json!({"is_active": false, "risk": "warning"})),
        )
        .await;
    assert_eq!(off.ok(200)["is_active"], false);
    let inactive = s
        .get("/v1/tenants/acme/tools?is_active=false", &admin)
        .await;
    assert_eq!(inactive.ok(200)["items"][0]["risk"], "warning");

    // Keys: create, list (no secrets), use, revoke
    let issued = s
        .post(
            "/v1/tenants/acme/keys",
            &admin,
            json!({"role": "agent", "agent": "sre-bot"}),
        )
        .await;
    let secret = issued.ok(201)["secret"].as_str().unwrap().to_string();
    let listed = s.get("/v1/tenants/acme/keys", &admin).await;
    let text = listed.ok(200).to_string();
    assert!(!text.contains(&secret[40..]), "secrets are never listed");
    assert_eq!(
        s.get("/v1/whoami", &secret).await.ok(200)["agent"]["name"],
        "sre-bot"
    );
    let key_id = issued.body["key"]["id"].as_str().unwrap();
    s.call(
        Method::DELETE,
        &format!("/v1/tenants/acme/keys/{key_id}"),
        &admin,
        None,
    )
    .await
    .ok(204);
    s.get("/v1/whoami", &secret).await.problem(401);

    // Deletes
    s.call(
        Method::DELETE,
        "/v1/tenants/acme/tools/query_metrics",
        &admin,
        None,
    )
    .await
    .ok(204);
    s.get("/v1/tenants/acme/tools/query_metrics", &admin)
        .await
        .problem(404);
    s.call(
        Method::DELETE,
        "/v1/tenants/acme/agents/triage",
        &admin,
        None,
    )
    .await
    .ok(204);
    s.call(
        Method::DELETE,
        "/v1/tenants/acme/agents/triage",
        &admin,
        None,
    )
    .await
    .problem(404);
    s.call(Method::DELETE, "/v1/tenants/acme", &admin, None)
        .await
        .ok(204);
    s.get("/v1/tenants/acme", &admin).await.problem(404);
}

#[tokio::test]
async fn crud_of_every_resource_on_sqlite() {
    crud_of_every_resource(TestServer::sqlite().await).await;
}

#[tokio::test]
async fn crud_of_every_resource_on_postgres() {
    crud_of_every_resource(TestServer::postgres().await).await;
}

#[tokio::test]
async fn pagination_follows_cursors_to_the_end() {
    let s = TestServer::sqlite().await;
    let t = s.tenant("acme").await;
    for i in 0..12 {
        s.post(
            &format!("/v1/tenants/{t}/tools"),
            &s.admin_key,
            json!({"name": format!("tool-{i:02}"), "kind": "builtin"}),
        )
        .await
        .ok(201);
    }
    let mut names = Vec::new();
    let mut path = format!("/v1/tenants/{t}/tools?limit=5");
    loop {
        let page = s.get(&path, &s.admin_key).await;
        let body = page.ok(200);
        names.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/tenants/{t}/tools?limit=5&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..12).map(|i| format!("tool-{i:02}")).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn the_last_admin_key_cannot_be_revoked() {
    let s = TestServer::sqlite().await;
    let whoami = s.get("/v1/whoami", &s.admin_key).await;
    let own = whoami.ok(200)["key_id"].as_str().unwrap().to_string();
    s.call(
        Method::DELETE,
        &format!("/v1/admin/keys/{own}"),
        &s.admin_key,
        None,
    )
    .await
    .problem(409);
    let second = s
        .post(
            "/v1/admin/keys",
            &s.admin_key,
            json!({"name": "break glass"}),
        )
        .await;
    let second = second.ok(201)["secret"].as_str().unwrap().to_string();
    s.call(
        Method::DELETE,
        &format!("/v1/admin/keys/{own}"),
        &second,
        None,
    )
    .await
    .ok(204);
    s.get("/v1/whoami", &s.admin_key).await.problem(401);
    assert_eq!(
        s.get("/v1/admin/keys", &second).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
