//! Provenance manifests over HTTP: signed for executed allowed actions only, once; verified by
//! us and by PyPI's securesystemslib and in-toto-attestation.

mod common;

use std::process::Command;

use common::{Acme, TestServer};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn executed_actions_get_a_manifest_that_standard_tools_verify() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let args = json!({"kind": "tool_call", "target": {"tool": "query_metrics"}, "arguments": {"query": "up"},
        "context": {"provenance": [{"source": "user:alice", "trust": "trusted"}]}});
    let d = a.s.post("/v1/check", &a.agent_key, args).await;
    let id = d.ok(200)["decision_id"].as_str().unwrap().to_string();
    let index = d.body["audit"]["index"].as_u64().unwrap();

    let env =
        a.s.post(
            "/v1/provenance/sign",
            &a.agent_key,
            json!({"decision_id": id, "status": "succeeded", "result": {"value": 1}}),
        )
        .await;
    let env = env.ok(201).clone();
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");

    // Ours.
    let v =
        a.s.call(
            Method::POST,
            "/v1/provenance/verify",
            &a.operator_key,
            Some(env.clone()),
        )
        .await;
    let v = v.ok(200);
    assert_eq!(v["valid"], true, "{v}");
    let st = &v["statement"];
    assert_eq!(
        st["predicateType"],
        "https://sentinel.dev/provenance/action/v1"
    );
    assert_eq!(st["predicate"]["audit"]["index"], index);
    assert_eq!(
        st["predicate"]["policyRevision"],
        d.body["policy"]["revision"]
    );
    assert_eq!(
        st["predicate"]["inputProvenance"][0]["source"],
        "user:alice"
    );
    assert_eq!(st["subject"].as_array().unwrap().len(), 2);

    // Theirs: securesystemslib (DSSE) and in-toto-attestation (Statement v1).
    let key = a.s.get("/v1/provenance/key", &a.operator_key).await;
    let public = key.ok(200)["keyval"]["public"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("envelope.json");
    std::fs::write(&file, env.to_string()).unwrap();
    let python = std::env::var("SENTINEL_INTEROP_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../audit/tests/interop/python/check_manifest.py"
    );
    let run = |path: &std::path::Path| {
        Command::new(&python)
            .arg(script)
            .arg(path)
            .arg(&public)
            .arg("https://sentinel.dev/provenance/action/v1")
            .output()
            .expect("python runs")
    };
    let out = run(&file);
    assert!(
        out.status.success(),
        "securesystemslib / in-toto rejected it: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Tampered: both reject.
    let mut bad = env.clone();
    let payload = bad["payload"].as_str().unwrap().to_string();
    bad["payload"] =
        json!(format!("{}A", &payload[..payload.len() - 4]) + &payload[payload.len() - 3..]);
    std::fs::write(&file, bad.to_string()).unwrap();
    assert!(!run(&file).status.success());
    let v =
        a.s.call(
            Method::POST,
            "/v1/provenance/verify",
            &a.operator_key,
            Some(bad),
        )
        .await;
    assert_eq!(v.ok(200)["valid"], false);

    // Fetch; once only; only allowed decisions; only the acting agent.
    assert_eq!(
        a.s.get(&format!("/v1/provenance/{id}"), &a.operator_key)
            .await
            .ok(200)["signatures"],
        env["signatures"]
    );
    a.s.post(
        "/v1/provenance/sign",
        &a.agent_key,
        json!({"decision_id": id, "status": "succeeded"}),
    )
    .await
    .problem(409);
    let denied = a.check("drop_database", json!({})).await;
    let r =
        a.s.post(
            "/v1/provenance/sign",
            &a.agent_key,
            json!({"decision_id": denied["decision_id"], "status": "succeeded"}),
        )
        .await;
    assert_eq!(r.problem(409)["code"], "not_allowed");
    a.s.post(
        "/v1/provenance/sign",
        &a.operator_key,
        json!({"decision_id": id, "status": "succeeded"}),
    )
    .await
    .problem(403);
    let r =
        a.s.post(
            "/v1/provenance/sign",
            &a.agent_key,
            json!({"decision_id": id, "status": "maybe"}),
        )
        .await;
    assert_eq!(r.problem(422)["field"], "status");
    // The execution result and the manifest are audited.
    let kinds =
        a.s.get("/v1/audit/entries?limit=1000", &a.operator_key)
            .await;
    let kinds: Vec<String> = kinds.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(
        kinds.contains(&"execution_result".to_string())
            && kinds.contains(&"provenance_manifest".to_string())
    );
}
