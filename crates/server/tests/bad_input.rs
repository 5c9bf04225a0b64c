//! Malformed input of every kind gets a 4xx problem naming what is wrong — never a 500, a panic
//! or a hang.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn malformed_bodies() {
    let s = TestServer::sqlite().await;
    let t = s.tenant("acme").await;
    let path = format!("/v1/tenants/{t}/agents");
    let key = Some(s.admin_key.as_str());
    let json_body = |b: &str| Some(("application/json", b.as_bytes().to_vec()));

    let r = s
        .raw(
            Method::POST,
            &path,
            key,
            Some(("text/plain", b"{}".to_vec())),
        )
        .await;
    assert_eq!(r.problem(415)["code"], "unsupported_media_type");
    let r = s.raw(Method::POST, &path, key, None).await;
    r.problem(415);
    let r = s
        .raw(Method::POST, &path, key, json_body("{\"name\": "))
        .await;
    assert_eq!(r.problem(400)["code"], "malformed_json");
    let r = s.raw(Method::POST, &path, key, json_body("[1,2]")).await;
    r.problem(400);
    let r = s
        .raw(
            Method::POST,
            &path,
            key,
            json_body("{\"name\": \"a\", \"colour\": 1}"),
        )
        .await;
    assert_eq!(r.problem(400)["field"], "colour");
    let r = s
        .raw(Method::POST, &path, key, json_body("{\"name\": 7}"))
        .await;
    assert_eq!(r.problem(400)["field"], "name");
    let r = s.raw(Method::POST, &path, key, json_body("{}")).await;
    assert!(r.problem(400)["detail"].as_str().unwrap().contains("name"));
    let r = s
        .raw(
            Method::POST,
            &path,
            key,
            json_body("{\"name\": \"a\", \"labels\": {\"k\": [1]}}"),
        )
        .await;
    assert_eq!(r.problem(400)["field"], "labels.k");
    let r = s
        .raw(
            Method::POST,
            &path,
            key,
            Some(("application/json", vec![0xff, 0xfe])),
        )
        .await;
    r.problem(400);

    // Validation beyond types names the field too.
    let r = s.post(&path, &s.admin_key, json!({"name": "a/b"})).await;
    assert_eq!(r.problem(422)["field"], "name");
    let r = s
        .post(&path, &s.admin_key, json!({"name": "x".repeat(500)}))
        .await;
    assert_eq!(r.problem(422)["field"], "name");
    let many: serde_json::Map<String, serde_json::Value> =
        (0..100).map(|i| (format!("k{i}"), json!("v"))).collect();
    let r = s
        .post(&path, &s.admin_key, json!({"name": "a", "labels": many}))
        .await;
    assert_eq!(r.problem(422)["field"], "labels");
    let r = s
        .post(
            &format!("/v1/tenants/{t}/tools"),
            &s.admin_key,
            json!({"name": "a", "kind": "telepathy"}),
        )
        .await;
    assert_eq!(r.problem(400)["field"], "kind");
    let r = s
        .post(
            &format!("/v1/tenants/{t}/tools"),
            &s.admin_key,
            json!({"name": "a", "kind": "http", "url": "ftp://x"}),
        )
        .await;
    assert_eq!(r.problem(422)["field"], "url");
    let r = s
        .post(
            &format!("/v1/tenants/{t}/tools"),
            &s.admin_key,
            json!({"name": "a", "kind": "http", "metadata": [1]}),
        )
        .await;
    assert_eq!(r.problem(422)["field"], "metadata");
    let r = s
        .post("/v1/tenants", &s.admin_key, json!({"slug": "Not A Slug"}))
        .await;
    assert_eq!(r.problem(422)["field"], "slug");
}

#[tokio::test]
async fn oversized_and_deeply_nested_bodies() {
    let s = TestServer::sqlite().await;
    let t = s.tenant("acme").await;
    let path = format!("/v1/tenants/{t}/tools");
    let huge = format!(
        "{{\"name\": \"a\", \"kind\": \"http\", \"owner\": \"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let r = s
        .raw(
            Method::POST,
            &path,
            Some(&s.admin_key),
            Some(("application/json", huge.into_bytes())),
        )
        .await;
    assert_eq!(r.problem(413)["code"], "body_too_large");
    let deep = format!(
        "{{\"name\": \"a\", \"kind\": \"http\", \"metadata\": {}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let r = s
        .raw(
            Method::POST,
            &path,
            Some(&s.admin_key),
            Some(("application/json", deep.into_bytes())),
        )
        .await;
    r.problem(400);
}

#[tokio::test]
async fn bad_queries_paths_routes_and_methods() {
    let s = TestServer::sqlite().await;
    let t = s.tenant("acme").await;
    let k = &s.admin_key;
    assert_eq!(
        s.get(&format!("/v1/tenants/{t}/agents?limit=0"), k)
            .await
            .problem(400)["field"],
        "limit"
    );
    s.get(&format!("/v1/tenants/{t}/agents?limit=100000"), k)
        .await
        .problem(400);
    s.get(&format!("/v1/tenants/{t}/agents?limit=ten"), k)
        .await
        .problem(400);
    assert_eq!(
        s.get(&format!("/v1/tenants/{t}/agents?cursor=zzz"), k)
            .await
            .problem(400)["field"],
        "cursor"
    );
    s.get(&format!("/v1/tenants/{t}/agents?status=asleep"), k)
        .await
        .problem(400);
    s.get(&format!("/v1/tenants/{t}/agents?colour=red"), k)
        .await
        .problem(400);
    s.get(&format!("/v1/tenants/{t}/agents?label=novalue"), k)
        .await
        .problem(400);
    s.call(
        Method::DELETE,
        &format!("/v1/tenants/{t}/keys/not-a-uuid"),
        k,
        None,
    )
    .await
    .problem(400);
    s.get("/v1/nothing-here", k).await.problem(404);
    // Other GETs are the console's (tests/console.rs); other methods still get the problem.
    s.call(Method::POST, "/nothing", k, Some(json!({})))
        .await
        .problem(404);
    s.call(Method::PUT, "/v1/tenants", k, Some(json!({})))
        .await
        .problem(405);
    s.get("/v1/tenants/does-not-exist/agents", k)
        .await
        .problem(404);
}
