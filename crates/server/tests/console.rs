//! The embedded admin console: served at `/` and on every console route with the right types,
//! caching and security headers, while every API path keeps answering as the API.

mod common;

use common::TestServer;
use reqwest::Method;

/// GETs `path` without a key; returns status, headers and body text.
async fn get(s: &TestServer, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = s
        .http
        .get(format!("{}{path}", s.base))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn the_console_is_served_at_the_root_and_on_its_routes() {
    let s = TestServer::sqlite().await;
    let (status, h, index) = get(&s, "/").await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let csp = header(&h, "content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(&h, "x-frame-options"), "DENY");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert!(
        index.contains("<div id=\"root\"></div>") && !index.contains("<script>"),
        "no inline script: {index}"
    );

    // Console routes (Slack links to /approvals/{id}) get the same page, which routes in the browser.
    for path in [
        "/approvals/0193b7a2-0000-7000-8000-000000000000",
        "/audit/3",
        "/inventory",
    ] {
        let (status, h, body) = get(&s, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
        assert_eq!(body, index, "{path}");
    }

    // The hashed script the page loads is cached for a year, as JavaScript.
    let script = index
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("index.html loads a script");
    assert!(script.starts_with("/assets/"), "{script}");
    let (status, h, js) = get(&s, script).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(
        header(&h, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(js.len() > 1000);

    // A hashed file that is not there is a 404, not the page.
    s.raw(Method::GET, "/assets/index-gone.js", None, None)
        .await
        .problem(404);
}

#[tokio::test]
async fn api_paths_keep_their_answers() {
    let s = TestServer::sqlite().await;
    let k = &s.admin_key;
    // Unknown API paths are still JSON problems, with or without a key.
    s.get("/v1/nothing-here", k).await.problem(404);
    s.raw(Method::GET, "/v1/nothing-here", None, None)
        .await
        .problem(404);
    s.raw(Method::GET, "/v1", None, None).await.problem(404);
    // Known ones still need their key.
    s.raw(Method::GET, "/v1/whoami", None, None)
        .await
        .problem(401);
    s.raw(Method::GET, "/metrics", None, None)
        .await
        .problem(401);
    assert_eq!(
        s.raw(Method::GET, "/health", None, None).await.ok(200)["status"],
        "ok"
    );
    // Only GET serves the console.
    s.raw(
        Method::POST,
        "/approvals/x",
        None,
        Some(("application/json", b"{}".to_vec())),
    )
    .await
    .problem(404);
}
