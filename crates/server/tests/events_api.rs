//! The live event stream over real HTTP: SSE and WebSocket delivery, resume with
//! `Last-Event-ID` (exactly the missed events, or a `stream.gap`), type and role filters, and
//! heartbeats.

mod common;

use std::time::Duration;

use common::{Acme, TestServer};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

const WAIT: Duration = Duration::from_secs(5);

/// One SSE frame: an event, or a comment (heartbeat).
#[derive(Debug, Default)]
struct Frame {
    id: Option<String>,
    event: Option<String>,
    data: String,
    comment: Option<String>,
}

impl Frame {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// A minimal Server-Sent Events reader over a streaming reqwest response.
struct Sse {
    response: reqwest::Response,
    buffer: String,
}

impl Sse {
    async fn open(s: &TestServer, key: &str, query: &str, last_event_id: Option<&str>) -> Sse {
        let mut req = s
            .http
            .get(format!("{}/v1/events{query}", s.base))
            .bearer_auth(key);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Sse {
            response,
            buffer: String::new(),
        }
    }

    /// The next frame, comments included.
    async fn frame(&mut self) -> Frame {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut frame = Frame::default();
                for line in block.lines().filter(|l| !l.is_empty()) {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value).to_string();
                    match field {
                        "" => frame.comment = Some(value),
                        "id" => frame.id = Some(value),
                        "event" => frame.event = Some(value),
                        "data" => frame.data.push_str(&value),
                        _ => {}
                    }
                }
                return frame;
            }
            let chunk = tokio::time::timeout(WAIT, self.response.chunk())
                .await
                .expect("no SSE frame in time")
                .unwrap()
                .expect("the stream ended");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event, skipping heartbeats.
    async fn event(&mut self) -> Frame {
        loop {
            let f = self.frame().await;
            if f.comment.is_none() {
                return f;
            }
        }
    }

    /// Asserts that no event arrives within `wait`.
    async fn quiet(&mut self, wait: Duration) {
        if let Ok(f) = tokio::time::timeout(wait, self.event()).await {
            panic!("unexpected event: {f:?}");
        }
    }
}

async fn query_metrics(a: &Acme) -> String {
    a.check("query_metrics", json!({"query": "up"})).await["decision_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn sse_streams_a_decision_as_it_is_made() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let mut sse = Sse::open(&a.s, &a.operator_key, "", None).await;
    let decision = query_metrics(&a).await;
    let f = sse.event().await;
    assert_eq!(f.event.as_deref(), Some("decision.made"));
    let e = f.json();
    assert_eq!(f.id.as_deref(), e["id"].as_str(), "id: is the event id");
    assert_eq!(e["type"], "decision.made");
    assert_eq!(e["data"]["decision_id"], decision.as_str());
    assert_eq!(e["data"]["outcome"], "allow");
    assert_eq!(e["data"]["tool"], "query_metrics");
    assert_eq!(e["data"]["agent"], "sre-bot");
    assert!(e["tenant_id"].is_string() && e["agent_id"].is_string() && e["time"].is_string());
}

#[tokio::test]
async fn a_resumed_stream_gets_exactly_the_missed_events() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let mut sse = Sse::open(&a.s, &a.operator_key, "", None).await;
    query_metrics(&a).await;
    let seen = sse.event().await.id.unwrap();
    drop(sse);
    let mut missed = vec![];
    for _ in 0..3 {
        missed.push(query_metrics(&a).await);
    }
    let mut sse = Sse::open(&a.s, &a.operator_key, "", Some(&seen)).await;
    for decision in &missed {
        let e = sse.event().await.json();
        assert_eq!(e["data"]["decision_id"], decision.as_str());
    }
    // Then live again, with nothing repeated in between.
    let live = query_metrics(&a).await;
    assert_eq!(
        sse.event().await.json()["data"]["decision_id"],
        live.as_str()
    );

    // The query parameter does the same for clients that cannot set headers.
    let mut sse = Sse::open(
        &a.s,
        &a.operator_key,
        &format!("?last_event_id={seen}"),
        None,
    )
    .await;
    assert_eq!(
        sse.event().await.json()["data"]["decision_id"],
        missed[0].as_str()
    );
}

#[tokio::test]
async fn resuming_from_an_unknown_id_signals_a_gap_first() {
    let a = Acme::on(TestServer::sqlite().await).await;
    query_metrics(&a).await;
    let mut sse = Sse::open(&a.s, &a.operator_key, "", Some("0-42")).await;
    let gap = sse.event().await;
    assert_eq!(gap.event.as_deref(), Some("stream.gap"));
    assert_eq!(gap.id, None, "a gap does not move the resume point");
    assert_eq!(gap.json()["type"], "stream.gap");
    assert_eq!(gap.json()["data"]["last_event_id"], "0-42");
    // What the server still holds follows.
    let next = sse.event().await;
    assert!(next.id.is_some(), "{next:?}");
}

#[tokio::test]
async fn the_type_filter_passes_only_the_named_types() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let mut sse = Sse::open(
        &a.s,
        &a.operator_key,
        "?types=kill.activated,kill.restored",
        None,
    )
    .await;
    query_metrics(&a).await;
    a.s.post(
        "/v1/tenants/acme/kill",
        &a.operator_key,
        json!({"scope": "tool", "target": "x", "reason": "drill"}),
    )
    .await
    .ok(201);
    let e = sse.event().await.json();
    assert_eq!(e["type"], "kill.activated");
    assert_eq!(e["data"]["target"], "x");

    let bad =
        a.s.get("/v1/events?types=kill.activated,nope", &a.operator_key)
            .await;
    assert_eq!(bad.problem(400)["field"], "types");
    assert!(bad.body["detail"].as_str().unwrap().contains("nope"));
    let bad = a.s.get("/v1/events?heartbeat=0", &a.operator_key).await;
    assert_eq!(bad.problem(400)["field"], "heartbeat");
    a.s.raw(reqwest::Method::GET, "/v1/events", None, None)
        .await
        .problem(401);
}

#[tokio::test]
async fn roles_see_only_their_share() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let s = &a.s;
    s.post(
        "/v1/tenants/acme/agents",
        &s.admin_key,
        json!({"name": "other-bot"}),
    )
    .await
    .ok(201);
    let other_key = s.key("acme", "agent", Some("other-bot")).await;
    s.tenant("beta").await;
    let beta_operator = s.key("beta", "operator", None).await;

    let mut agent = Sse::open(s, &a.agent_key, "", None).await;
    let mut beta = Sse::open(s, &beta_operator, "", None).await;
    let mut admin_acme = Sse::open(s, &s.admin_key, "?tenant=acme", None).await;

    // Another agent's decision and a policy activation: not for the agent key.
    s.post(
        "/v1/check",
        &other_key,
        json!({"kind": "tool_call", "target": {"tool": "query_metrics"}}),
    )
    .await
    .ok(200);
    let mine = query_metrics(&a).await;
    let e = agent.event().await.json();
    assert_eq!(e["data"]["decision_id"], mine.as_str(), "{e}");
    // Its tenant's kill switches are, whoever they stop.
    s.post(
        "/v1/tenants/acme/kill",
        &a.operator_key,
        json!({"scope": "agent", "target": "other-bot", "reason": "drill"}),
    )
    .await
    .ok(201);
    assert_eq!(agent.event().await.json()["type"], "kill.activated");

    // The admin asked for acme and sees all three.
    for expected in ["decision.made", "decision.made", "kill.activated"] {
        assert_eq!(admin_acme.event().await.json()["type"], expected);
    }

    // Nothing of acme's reaches beta's operator: the first thing it sees is beta's own kill.
    s.post(
        "/v1/tenants/beta/kill",
        &beta_operator,
        json!({"scope": "tenant", "reason": "drill"}),
    )
    .await
    .ok(201);
    let e = beta.event().await.json();
    assert_eq!(
        (e["type"].as_str(), e["data"]["target"].as_str()),
        (Some("kill.activated"), Some("beta"))
    );
    agent.quiet(Duration::from_millis(300)).await;

    s.get("/v1/events?tenant=acme", &beta_operator)
        .await
        .problem(404);
    s.get("/v1/events?tenant=nope", &s.admin_key)
        .await
        .problem(404);
}

#[tokio::test]
async fn heartbeats_keep_an_idle_stream_alive() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let mut sse = Sse::open(&a.s, &a.operator_key, "?heartbeat=1", None).await;
    let started = std::time::Instant::now();
    let f = sse.frame().await;
    assert_eq!(f.comment.as_deref(), Some("heartbeat"), "{f:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_stream_ends_when_its_key_is_revoked() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let watcher = a.s.key("acme", "auditor", None).await;
    let mut sse = Sse::open(&a.s, &watcher, "?heartbeat=60", None).await;
    query_metrics(&a).await;
    assert_eq!(sse.event().await.event.as_deref(), Some("decision.made"));

    let keys = a.s.get("/v1/tenants/acme/keys", &a.s.admin_key).await;
    let id = keys.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "auditor")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    a.s.call(
        reqwest::Method::DELETE,
        &format!("/v1/tenants/acme/keys/{id}"),
        &a.s.admin_key,
        None,
    )
    .await
    .ok(204);
    let revoked = std::time::Instant::now();
    // The stream ends within one re-check (5 s), though it is otherwise idle.
    let end = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match sse.response.chunk().await {
                Ok(Some(_)) => continue,
                _ => return,
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the stream outlived its revoked key");
    assert!(revoked.elapsed() <= Duration::from_secs(7));
}

async fn socket(
    s: &TestServer,
    key: &str,
    query: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("{}/v1/events/ws{query}", s.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// The next JSON text message, answering nothing and skipping pings.
async fn message<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no message in time")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = m {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn websockets_stream_resume_and_ping() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let mut ws = socket(&a.s, &a.operator_key, "?types=decision.made").await;
    let first = query_metrics(&a).await;
    let e = message(&mut ws).await;
    assert_eq!(
        (e["type"].as_str(), e["data"]["decision_id"].as_str()),
        (Some("decision.made"), Some(first.as_str()))
    );
    let seen = e["id"].as_str().unwrap().to_string();
    ws.close(None).await.unwrap();

    let missed = [query_metrics(&a).await, query_metrics(&a).await];
    let mut ws = socket(
        &a.s,
        &a.operator_key,
        &format!("?last_event_id={seen}&heartbeat=1"),
    )
    .await;
    for decision in &missed {
        assert_eq!(
            message(&mut ws).await["data"]["decision_id"],
            decision.as_str()
        );
    }
    let ping = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let Message::Ping(_) = ws.next().await.unwrap().unwrap() {
                return;
            }
        }
    })
    .await;
    assert!(ping.is_ok(), "no ping within 3 s at heartbeat=1");

    // A plain GET is not an upgrade.
    a.s.get("/v1/events/ws", &a.operator_key).await.problem(400);
}
