//! `kill -9` under load: every decision a client received is in the audit log and in the
//! decision log after a restart, and the audit log verifies. (Decisions are answered only once
//! their entry, and the record committed with it, are durable.)

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ok, run, run_as, start};
use serde_json::Value;

#[test]
fn every_answered_decision_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = start(&data);
    let agent_key = common::acme_with_agent(&server);

    // Load from several clients, then SIGKILL the server mid-stream.
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (http, url, key, received) = (
                http.clone(),
                server.url.clone(),
                agent_key.clone(),
                received.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let body =
                    serde_json::json!({"kind": "tool_call", "target": {"tool": "query_metrics"}});
                for _ in 0..100_000 {
                    let Ok(resp) = http
                        .post(format!("{url}/v1/check"))
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .await
                    else {
                        break;
                    };
                    let Ok(d) = resp.json::<Value>().await else {
                        break;
                    };
                    received
                        .lock()
                        .unwrap()
                        .push(d["decision_id"].as_str().unwrap().to_string());
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.kill_9();
        for t in tasks {
            let _ = t.await;
        }
    });
    let received = received.lock().unwrap().clone();
    assert!(
        received.len() > 50,
        "the load ran ({} decisions)",
        received.len()
    );

    // Restart on the same data: the log holds every decision a client saw, and verifies.
    let server = start(&data);
    let out = dir.path().join("audit");
    let mut verified = String::new();
    for _ in 0..30 {
        ok(run(
            &server,
            &["audit", "fetch", "--out", out.to_str().unwrap()],
        ));
        let o = run(
            &server,
            &["audit", "verify", "--dir", out.to_str().unwrap()],
        );
        if o.status.success() {
            verified = String::from_utf8_lossy(&o.stdout).to_string();
            let export = std::fs::read_to_string(out.join("export.ndjson")).unwrap();
            let logged: HashSet<String> = export
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter_map(|e| e["details"]["decision_id"].as_str().map(String::from))
                .collect();
            if received.iter().all(|id| logged.contains(id)) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!verified.is_empty(), "the log verifies after the crash");
    let export = std::fs::read_to_string(out.join("export.ndjson")).unwrap();
    let logged: HashSet<&str> = export
        .lines()
        .filter(|l| l.contains(r#""kind":"decision""#))
        .filter_map(|l| {
            let start = l.find(r#""decision_id":""#)? + 15;
            Some(&l[start..start + 36])
        })
        .collect();
    let missing: Vec<&String> = received
        .iter()
        .filter(|id| !logged.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered decisions are missing from the log",
        missing.len(),
        received.len()
    );
    // And each has its decision log record, saying what the client was told.
    let auditor = ok(run(
        &server,
        &[
            "keys", "create", "-t", "acme", "--role", "auditor", "-o", "json",
        ],
    ));
    let auditor: Value = serde_json::from_str(&auditor).unwrap();
    let auditor = auditor["secret"].as_str().unwrap().to_string();
    let unrecorded: Vec<String> = runtime.block_on(async {
        let http = reqwest::Client::new();
        let mut unrecorded = Vec::new();
        for id in &received {
            let resp = http
                .get(format!("{}/v1/tenants/acme/decisions/{id}", server.url))
                .bearer_auth(&auditor)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let record: Value = resp.json().await.unwrap_or_default();
            if !status.is_success() || record["decision_id"] != id.as_str() {
                unrecorded.push(format!("{id}: {status} {record}"));
            }
        }
        unrecorded
    });
    assert!(
        unrecorded.is_empty(),
        "{} of {} answered decisions are missing from the decision log, e.g. {:?}",
        unrecorded.len(),
        received.len(),
        unrecorded.first()
    );

    // The restarted server keeps deciding, on top of the recovered log.
    let d = run_as(
        &server,
        &agent_key,
        &["check", "--tool", "query_metrics", "-o", "json"],
    );
    let d: Value = serde_json::from_str(&ok(d)).unwrap();
    assert_eq!(d["outcome"], "allow");
    assert!(d["audit"]["index"].as_u64().unwrap() >= received.len() as u64);
}
