//! Webhooks over real HTTP: signed deliveries that retry until a local receiver answers, the
//! Slack body, the test delivery, management and its audit trail, bad input and tenant
//! isolation.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use common::{Acme, TestServer};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A local webhook receiver that answers 500 to its first `failures` requests, then 200.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(failures: usize) -> Receiver {
        let got = Arc::new(Mutex::new(Vec::<Received>::new()));
        let log = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let log = log.clone();
                async move {
                    let mut log = log.lock().unwrap();
                    log.push(Received { headers, body });
                    if log.len() <= failures {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Retries after 50 ms, 100 ms, … instead of seconds.
fn fast_retries() -> sentinel_server::Config {
    sentinel_server::Config {
        webhook_backoff_ms: 50,
        public_url: Some("https://sentinel.example.com".into()),
        ..Default::default()
    }
}

async fn sqlite() -> TestServer {
    let (dir, url) = sentinel_testkit::sqlite();
    TestServer::start(url, Some(dir), fast_retries()).await
}

/// What a receiver does with `Sentinel-Signature` (as docs/webhooks.md tells it).
fn signature_valid(secret: &str, header: &str, body: &str) -> bool {
    let mut parts = header.split(',').filter_map(|p| p.split_once('='));
    let (Some(("t", t)), Some(("v1", v1))) = (parts.next(), parts.next()) else {
        return false;
    };
    let age = time::OffsetDateTime::now_utc().unix_timestamp() - t.parse::<i64>().unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    age.abs() < 300 && mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
}

/// Polls the delivery log until its first delivery has left `pending`.
async fn settled(s: &TestServer, key: &str, hook: &str) -> Value {
    let path = format!("/v1/tenants/acme/webhooks/{hook}/deliveries");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = s.get(&path, key).await.ok(200).clone();
        if let Some(d) = log["items"].get(0) {
            if d["status"] != "pending" {
                return d.clone();
            }
        }
        assert!(std::time::Instant::now() < deadline, "still pending: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn signed_deliveries_retry_until_the_receiver_answers(s: TestServer) {
    s.tenant("acme").await;
    let operator = s.key("acme", "operator", None).await;
    let receiver = Receiver::start(2).await;
    let created = s
        .post(
            "/v1/tenants/acme/webhooks",
            &operator,
            json!({"name": "pager", "url": receiver.url, "events": ["kill.activated"]}),
        )
        .await;
    let created = created.ok(201);
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(created["webhook"]["format"], "generic");
    let hook = created["webhook"]["id"].as_str().unwrap().to_string();

    s.post(
        "/v1/tenants/acme/kill",
        &operator,
        json!({"scope": "tool", "target": "rollback_deployment", "reason": "drill"}),
    )
    .await
    .ok(201);
    let d = settled(&s, &operator, &hook).await;
    assert_eq!(d["status"], "delivered", "{d}");
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["last_status"], 204);
    assert_eq!(d["event_type"], "kill.activated");

    let got = receiver.received();
    assert_eq!(got.len(), 3);
    let last = got.last().unwrap();
    assert_eq!(last.headers["sentinel-event"], "kill.activated");
    assert_eq!(last.headers["sentinel-delivery"], d["id"].as_str().unwrap());
    assert_eq!(last.headers["content-type"], "application/json");
    let header = last.headers["sentinel-signature"].to_str().unwrap();
    assert!(signature_valid(&secret, header, &last.body), "{header}");
    assert!(!signature_valid("whsec_wrong", header, &last.body));
    let event: Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(event["type"], "kill.activated");
    assert_eq!(event["data"]["target"], "rollback_deployment");
    assert_eq!(event["id"], d["event_id"]);
    assert_eq!(
        d["body"].as_str(),
        Some(last.body.as_str()),
        "the log keeps the exact body"
    );
}

#[tokio::test]
async fn signed_deliveries_retry_until_the_receiver_answers_sqlite() {
    signed_deliveries_retry_until_the_receiver_answers(sqlite().await).await;
}

#[tokio::test]
async fn signed_deliveries_retry_until_the_receiver_answers_postgres() {
    let url = sentinel_testkit::postgres().fresh_database();
    let s = TestServer::start(url, None, fast_retries()).await;
    signed_deliveries_retry_until_the_receiver_answers(s).await;
}

#[tokio::test]
async fn a_receiver_that_never_answers_fails_after_the_last_attempt() {
    let config = sentinel_server::Config {
        webhook_max_attempts: 2,
        ..fast_retries()
    };
    let (dir, url) = sentinel_testkit::sqlite();
    let s = TestServer::start(url, Some(dir), config).await;
    s.tenant("acme").await;
    let receiver = Receiver::start(usize::MAX).await;
    let created = s
        .post(
            "/v1/tenants/acme/webhooks",
            &s.admin_key,
            json!({"name": "down", "url": receiver.url}),
        )
        .await;
    let hook = created.ok(201)["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.post(
        &format!("/v1/tenants/acme/webhooks/{hook}/test"),
        &s.admin_key,
        json!({}),
    )
    .await
    .ok(202);
    let d = settled(&s, &s.admin_key, &hook).await;
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_u64()),
        (Some("failed"), Some(2))
    );
    assert_eq!(d["last_status"], 500);
    assert!(d["last_error"].as_str().unwrap().contains("500"), "{d}");
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn slack_webhooks_get_a_message_with_the_facts_and_a_link() {
    let (dir, url) = sentinel_testkit::sqlite();
    let a = Acme::on(TestServer::start(url, Some(dir), fast_retries()).await).await;
    let receiver = Receiver::start(0).await;
    let created = a
        .s
        .post(
            "/v1/tenants/acme/webhooks",
            &a.operator_key,
            json!({"name": "slack", "url": receiver.url, "format": "slack", "events": ["decision.made"]}),
        )
        .await;
    let hook = created.ok(201)["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let held = a
        .check("rollback_deployment", json!({"service": "api"}))
        .await;
    assert_eq!(held["outcome"], "approval_required");
    settled(&a.s, &a.operator_key, &hook).await;
    let body: Value = serde_json::from_str(&receiver.received()[0].body).unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("rollback_deployment"),
        "{body}"
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(
        blocks[0]["text"]["text"],
        "Decision approval_required: rollback_deployment"
    );
    let facts = blocks[1]["fields"].to_string();
    for fact in [
        "sre-bot",
        "rollback_deployment",
        "critical",
        "needs a human",
    ] {
        assert!(facts.contains(fact), "{fact} missing from {facts}");
    }
    let id = held["approval_id"]
        .as_str()
        .expect("held with an approval id");
    assert!(body
        .to_string()
        .contains(&format!("https://sentinel.example.com/approvals/{id}")));

    // The test delivery goes out whatever the webhook subscribes to, in its format.
    a.s.post(
        &format!("/v1/tenants/acme/webhooks/{hook}/test"),
        &a.operator_key,
        json!({}),
    )
    .await
    .ok(202);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while receiver.received().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "no test delivery");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let test = &receiver.received()[1];
    assert_eq!(test.headers["sentinel-event"], "webhook.test");
    let body: Value = serde_json::from_str(&test.body).unwrap();
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        "Test notification from Sentinel"
    );
}

#[tokio::test]
async fn management_is_audited_and_never_shows_the_secret_again() {
    let s = sqlite().await;
    s.tenant("acme").await;
    let operator = s.key("acme", "operator", None).await;
    let url = "https://hooks.slack.com/services/T000/B000/very-secret-token";
    let created = s
        .post(
            "/v1/tenants/acme/webhooks",
            &operator,
            json!({"name": "slack", "url": url, "format": "slack", "events": ["*", "*"]}),
        )
        .await;
    let created = created.ok(201).clone();
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(created["webhook"]["events"], json!(["*"]));

    let listed = s.get("/v1/tenants/acme/webhooks", &operator).await;
    assert_eq!(listed.ok(200).as_array().unwrap().len(), 1);
    assert!(!listed.body.to_string().contains("whsec_"));
    let got = s.get("/v1/tenants/acme/webhooks/slack", &operator).await;
    assert_eq!(got.ok(200)["id"], created["webhook"]["id"]);

    let patched = s
        .call(
            Method::PATCH,
            "/v1/tenants/acme/webhooks/slack",
            &operator,
            Some(json!({"active": false, "events": ["approval.requested", "kill.activated"]})),
        )
        .await;
    let patched = patched.ok(200);
    assert_eq!(patched["active"], false);
    assert_eq!(patched["url"], url);

    let rotated = s
        .post(
            "/v1/tenants/acme/webhooks/slack/rotate-secret",
            &operator,
            json!({}),
        )
        .await;
    let rotated = rotated.ok(200);
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);
    assert_eq!(rotated["webhook"]["secret_version"], 1);

    s.call(
        Method::DELETE,
        "/v1/tenants/acme/webhooks/slack",
        &operator,
        None,
    )
    .await
    .ok(204);
    s.get("/v1/tenants/acme/webhooks/slack", &operator)
        .await
        .problem(404);

    let audit = s.get("/v1/audit/entries?limit=1000", &operator).await;
    let entries: Vec<&Value> = audit.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "configuration")
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["entry"]["details"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "rotate_secret", "delete"]);
    assert_eq!(
        entries[0]["entry"]["details"]["url_host"],
        "hooks.slack.com"
    );
    assert!(
        !audit.body.to_string().contains("very-secret-token"),
        "a Slack URL is a credential and stays out of the audit log"
    );
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let s = sqlite().await;
    s.tenant("acme").await;
    let post = |body: Value| s.post("/v1/tenants/acme/webhooks", &s.admin_key, body);
    for (body, field) in [
        (json!({"name": "x", "url": "ftp://example.com/"}), "url"),
        (json!({"name": "x", "url": "not a url"}), "url"),
        (
            json!({"name": "x", "url": "http://x/", "events": ["approval.requestd"]}),
            "events[0]",
        ),
        (
            json!({"name": "x", "url": "http://x/", "events": []}),
            "events",
        ),
        (json!({"name": "", "url": "http://x/"}), "name"),
    ] {
        let r = post(body.clone()).await;
        assert_eq!(r.problem(422)["field"], field, "{body}");
    }
    let r = post(json!({"name": "x", "url": "http://x/", "format": "teams"})).await;
    assert_eq!(r.problem(400)["field"], "format");
    let r = post(json!({"name": "x", "url": "http://x/", "secret": "mine"})).await;
    r.problem(400);
    post(json!({"name": "x", "url": "http://x/"})).await.ok(201);
    let dup = post(json!({"name": "x", "url": "http://y/"})).await;
    assert_eq!(dup.problem(409)["field"], "name");
    let r = s
        .call(
            Method::PATCH,
            "/v1/tenants/acme/webhooks/x",
            &s.admin_key,
            Some(json!({"url": "gopher://x/"})),
        )
        .await;
    assert_eq!(r.problem(422)["field"], "url");
    let r = s
        .get(
            "/v1/tenants/acme/webhooks/x/deliveries?limit=0",
            &s.admin_key,
        )
        .await;
    assert_eq!(r.problem(400)["field"], "limit");
}

#[tokio::test]
async fn other_tenants_and_roles_are_kept_out() {
    let a = Acme::on(sqlite().await).await;
    let s = &a.s;
    let created = s
        .post(
            "/v1/tenants/acme/webhooks",
            &a.operator_key,
            json!({"name": "pager", "url": "http://127.0.0.1:9/"}),
        )
        .await;
    let id = created.ok(201)["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.tenant("beta").await;
    let beta = s.key("beta", "operator", None).await;
    s.get("/v1/tenants/acme/webhooks", &beta).await.problem(404);
    s.get(&format!("/v1/tenants/acme/webhooks/{id}"), &beta)
        .await
        .problem(404);
    s.get(&format!("/v1/tenants/beta/webhooks/{id}"), &beta)
        .await
        .problem(404);
    s.call(
        Method::DELETE,
        &format!("/v1/tenants/beta/webhooks/{id}"),
        &beta,
        None,
    )
    .await
    .problem(404);
    s.get(&format!("/v1/tenants/acme/webhooks/{id}/deliveries"), &beta)
        .await
        .problem(404);

    // Auditors read webhooks but not their URLs, which can be credentials (Slack's are).
    let auditor = s.key("acme", "auditor", None).await;
    let seen = s.get("/v1/tenants/acme/webhooks", &auditor).await;
    assert_eq!(seen.ok(200)[0]["url"], "http://127.0.0.1/…");
    let one = s
        .get(&format!("/v1/tenants/acme/webhooks/{id}"), &auditor)
        .await;
    assert_eq!(one.ok(200)["url"], "http://127.0.0.1/…");
    let full = s.get("/v1/tenants/acme/webhooks", &a.operator_key).await;
    assert_eq!(full.ok(200)[0]["url"], "http://127.0.0.1:9/");
    s.post(
        "/v1/tenants/acme/webhooks",
        &auditor,
        json!({"name": "mine", "url": "http://127.0.0.1:9/"}),
    )
    .await
    .problem(403);
    s.post(
        &format!("/v1/tenants/acme/webhooks/{id}/test"),
        &auditor,
        json!({}),
    )
    .await
    .problem(403);
    s.get("/v1/tenants/acme/webhooks", &a.agent_key)
        .await
        .problem(403);
}

/// The point of notifications: an operator hears of a held action at once, and of its answer.
#[tokio::test]
async fn approval_requests_and_answers_are_notified() {
    let (dir, url) = sentinel_testkit::sqlite();
    let a = Acme::on(TestServer::start(url, Some(dir), fast_retries()).await).await;
    let receiver = Receiver::start(0).await;
    a.s.post(
        "/v1/tenants/acme/webhooks",
        &a.operator_key,
        json!({"name": "oncall", "url": receiver.url, "format": "generic",
               "events": ["approval.requested", "approval.decided"]}),
    )
    .await
    .ok(201);
    let held = a
        .check("rollback_deployment", json!({"service": "api"}))
        .await;
    let id = held["approval_id"].as_str().unwrap().to_string();
    a.s.post(
        &format!("/v1/approvals/{id}/decision"),
        &a.operator_key,
        json!({"granted": true, "reason": "CHG-1"}),
    )
    .await
    .ok(200);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while receiver.received().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} deliveries",
            receiver.received().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Deliveries run concurrently: find each by its type, not by its place.
    let got = receiver.received();
    let find = |kind: &str| {
        let r = got
            .iter()
            .find(|r| r.headers["sentinel-event"] == kind)
            .unwrap_or_else(|| panic!("no {kind} delivery"));
        serde_json::from_str::<Value>(&r.body).unwrap()
    };
    let requested = find("approval.requested");
    assert_eq!(requested["type"], "approval.requested");
    assert_eq!(requested["data"]["id"], json!(id));
    assert_eq!(requested["data"]["status"], "pending");
    assert_eq!(requested["data"]["action"]["arguments"]["service"], "api");
    let decided = find("approval.decided");
    assert_eq!(decided["data"]["id"], json!(id));
    assert_eq!(decided["data"]["status"], "approved");
}
