//! Health, readiness, metrics, the OpenAPI document and request ids.

mod common;

use std::time::{Duration, Instant};

use common::{Acme, TestServer};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn probes_answer_without_a_key() {
    let s = TestServer::sqlite().await;
    assert_eq!(
        s.raw(Method::GET, "/health", None, None).await.ok(200)["status"],
        "ok"
    );
    assert_eq!(
        s.raw(Method::GET, "/ready", None, None).await.ok(200)["status"],
        "ready"
    );
    s.raw(Method::GET, "/openapi.json", None, None)
        .await
        .problem(401);
    s.raw(Method::GET, "/metrics", None, None)
        .await
        .problem(401);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let s = TestServer::sqlite().await;
    let t = s.tenant("acme").await;
    s.get(&format!("/v1/tenants/{t}/agents"), &s.admin_key)
        .await
        .ok(200);
    let text = s.metrics_text().await;
    assert!(
        text.contains(r#"route="/v1/tenants/{tenant}/agents",method="GET",status="200""#),
        "{text}"
    );
    assert!(
        text.contains("sentinel_http_request_duration_seconds_bucket"),
        "latency is a histogram"
    );
    assert!(
        !text.contains("/v1/tenants/acme/"),
        "raw paths never become labels"
    );
}

/// The rule index's compiler shows in the metrics: the programs it compiled, how long each
/// took, and the decisions the whole bundle made while one was compiling.
#[tokio::test]
async fn metrics_show_the_rule_index_compiling_programs() {
    let a = Acme::on(TestServer::sqlite().await).await;
    // `sre` indexes its rule about restart_kubernetes_pod: these reach different sets of rules.
    a.check("query_metrics", json!({})).await;
    a.check("restart_kubernetes_pod", json!({"namespace": "default"}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = a.s.metrics_text().await;
        if text.contains(r#"sentinel_policy_programs_total{result="compiled"}"#) {
            assert!(
                text.contains("sentinel_policy_program_compile_seconds"),
                "{text}"
            );
            assert!(
                text.contains(r#"sentinel_policy_unindexed_decisions_total{reason="compiling"}"#),
                "{text}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no program compiled: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An audit commit on SQLite shows in the metrics twice: the whole commit, and the journal's
/// write and fsync inside it (the disk's share).
#[tokio::test]
async fn metrics_show_the_audit_journal_s_sync_beside_the_commit() {
    let a = Acme::on(TestServer::sqlite().await).await;
    a.check("query_metrics", json!({})).await;
    let count = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(&format!("{name}_count "))?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(0.0)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = a.s.metrics_text().await;
        let syncs = count(&text, "sentinel_audit_journal_sync_seconds");
        if syncs >= 1.0 {
            assert!(
                count(&text, "sentinel_audit_commit_seconds") >= 1.0,
                "a sync happens inside a commit: {text}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no journal sync counted: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn openapi_covers_every_route() {
    let s = TestServer::sqlite().await;
    let doc = s.get("/openapi.json", &s.admin_key).await;
    let doc = doc.ok(200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/v1/whoami",
        "/v1/tenants",
        "/v1/tenants/{tenant}",
        "/v1/tenants/{tenant}/agents",
        "/v1/tenants/{tenant}/agents/{agent}",
        "/v1/tenants/{tenant}/tools",
        "/v1/tenants/{tenant}/tools/{tool}",
        "/v1/tenants/{tenant}/keys",
        "/v1/tenants/{tenant}/keys/{key}",
        "/v1/admin/keys",
        "/v1/admin/keys/{key}",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing from the OpenAPI document"
        );
    }
    // Every documented operation answers (not with 404 route-not-found or 405): the document
    // and the router are the same routes.
    for (path, item) in paths {
        let concrete = path
            .replace("{tenant}", "acme")
            .replace("{agent}", "a")
            .replace("{tool}", "t")
            .replace("{key}", "01a2012a-13dc-72a6-9b96-39bce58e4361")
            .replace("{webhook}", "w");
        for (method, op) in item.as_object().unwrap() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            if op["responses"]["200"]["content"]["text/event-stream"].is_object() {
                // An endless stream: its headers answer, its body never ends.
                let r = s.http.request(m, format!("{}{concrete}", s.base));
                let r = r.bearer_auth(&s.admin_key).send().await.unwrap();
                assert_eq!(r.status(), 200, "{method} {path}");
                continue;
            }
            let r = s.call(m, &concrete, &s.admin_key, None).await;
            assert_ne!(r.status, 405, "{method} {path}");
            assert!(
                r.body["detail"] != "route not found",
                "{method} {path} is documented but not routed"
            );
        }
        assert!(item
            .as_object()
            .unwrap()
            .values()
            .all(|op| op["responses"].as_object().is_some_and(|r| !r.is_empty())));
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let s = TestServer::sqlite().await;
    let resp = s
        .http
        .get(format!("{}/health", s.base))
        .header("x-request-id", "trace-me")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-me");
    let resp = s
        .http
        .get(format!("{}/v1/whoami", s.base))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("x-request-id"));
}
