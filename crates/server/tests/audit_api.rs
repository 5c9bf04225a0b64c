//! The audit log end to end: every decision is in the log before it is answered, checkpoints
//! are signed, proofs verify (with our verifier and with Go's `sumdb/note` and `sumdb/tlog`),
//! and tampering with the database is detected at the first bad index.

mod common;

use std::process::Command;

use base64::Engine;
use common::{checkpoint_of, Acme, TestServer};
use reqwest::Method;
use sentinel_audit::checkpoint::Checkpoint;
use sentinel_audit::merkle::{self, Hash};
use sentinel_audit::note::NoteVerifier;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn text(s: &TestServer, path: &str, key: &str) -> String {
    let r = s
        .http
        .get(format!("{}{path}", s.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.text().await.unwrap()
}

fn hash(b64: &Value) -> Hash {
    B64.decode(b64.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn decisions_are_logged_before_they_are_answered_and_proofs_verify() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let mut decisions = Vec::new();
    for tool in [
        "query_metrics",
        "rollback_deployment",
        "drop_database",
        "fetch_recent_logs",
    ] {
        decisions.push(a.check(tool, json!({})).await);
    }
    // Each answer names its place in the log: the entry is already stored.
    for d in &decisions {
        let index = d["audit"]["index"]
            .as_u64()
            .expect("decisions carry their audit index");
        let entry =
            a.s.get("/v1/audit/entries?kind=decision&limit=1000", &a.s.admin_key)
                .await;
        let found = entry.ok(200)["items"].as_array().unwrap().iter().any(|e| {
            e["index"] == index && e["entry"]["details"]["decision_id"] == d["decision_id"]
        });
        assert!(
            found,
            "decision {} is not at index {index}",
            d["decision_id"]
        );
    }
    let last = decisions.last().unwrap()["audit"]["index"]
        .as_u64()
        .unwrap();
    let note = checkpoint_of(&a.s, last + 1).await;
    let key = text(&a.s, "/v1/audit/verifier-key", &a.operator_key).await;
    let verifier = NoteVerifier::from_key_string(key.trim()).unwrap();
    let cp = Checkpoint::verify_signed(&note, &verifier)
        .expect("the checkpoint is signed by the published key");
    assert_eq!(cp.origin, "sentinel.local/audit");

    for d in &decisions {
        let index = d["audit"]["index"].as_u64().unwrap();
        let e =
            a.s.get(&format!("/v1/audit/entries/{index}"), &a.operator_key)
                .await;
        let e = e.ok(200);
        assert_eq!(e["leaf_hash"], d["audit"]["leaf_hash"]);
        let proof: Vec<Hash> = e["inclusion_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(hash)
            .collect();
        let size = e["tree_size"].as_u64().unwrap();
        let signed =
            Checkpoint::verify_signed(e["checkpoint"].as_str().unwrap(), &verifier).unwrap();
        merkle::check_record(
            &proof,
            size,
            &signed.root_hash,
            index,
            &hash(&e["leaf_hash"]),
        )
        .expect("inclusion proof verifies");
        let mut wrong = hash(&e["leaf_hash"]);
        wrong[0] ^= 1;
        assert!(merkle::check_record(&proof, size, &signed.root_hash, index, &wrong).is_err());
    }

    // The log grows consistently.
    a.check("query_metrics", json!({})).await;
    let newer = checkpoint_of(&a.s, cp.size + 1).await;
    let newer = Checkpoint::verify_signed(&newer, &verifier).unwrap();
    let c =
        a.s.get(
            &format!("/v1/audit/consistency?from={}&to={}", cp.size, newer.size),
            &a.operator_key,
        )
        .await;
    let proof: Vec<Hash> = c.ok(200)["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(hash)
        .collect();
    merkle::check_tree(&proof, newer.size, &newer.root_hash, cp.size, &cp.root_hash)
        .expect("consistency proof verifies");
}

#[tokio::test]
async fn operator_actions_are_audited_and_auditors_see_only_their_tenant() {
    let a = Acme::on(TestServer::sqlite().await).await;
    a.s.tenant("globex").await;
    a.s.post(
        "/v1/tenants/globex/agents",
        &a.s.admin_key,
        json!({"name": "bot"}),
    )
    .await
    .ok(201);
    a.s.post(
        "/v1/tenants/globex/policies?activate=true",
        &a.s.admin_key,
        common::shipped_bundle("baseline"),
    )
    .await
    .ok(201);
    let kill =
        a.s.post(
            "/v1/tenants/acme/kill",
            &a.operator_key,
            json!({"scope": "tool", "target": "x", "reason": "drill"}),
        )
        .await;
    let kill_id = kill.ok(201)["id"].as_str().unwrap().to_string();
    a.s.post(
        "/v1/tenants/acme/restore",
        &a.operator_key,
        json!({"kill_id": kill_id}),
    )
    .await
    .ok(200);
    let auditor = a.s.key("acme", "auditor", None).await;
    let kinds = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let mine = a.s.get("/v1/audit/entries?limit=1000", &auditor).await;
    let mine = mine.ok(200).clone();
    for kind in ["policy_activation", "key_change", "kill", "restore"] {
        assert!(
            kinds(&mine).iter().any(|k| k == kind),
            "{kind} missing: {:?}",
            kinds(&mine)
        );
    }
    let acme_id = a.s.get("/v1/tenants/acme", &auditor).await.ok(200)["id"].clone();
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["tenant_id"] == acme_id),
        "another tenant's entry leaked"
    );
    let all =
        a.s.get("/v1/audit/entries?limit=1000", &a.s.admin_key)
            .await;
    assert!(
        all.ok(200)["items"].as_array().unwrap().len() > mine["items"].as_array().unwrap().len()
    );
    // Filters and pagination.
    let kills = a.s.get("/v1/audit/entries?kind=kill", &auditor).await;
    assert_eq!(kills.ok(200)["items"].as_array().unwrap().len(), 1);
    let page = a.s.get("/v1/audit/entries?limit=2", &auditor).await;
    let cursor = page.ok(200)["next_cursor"].as_u64().unwrap();
    let next =
        a.s.get(
            &format!("/v1/audit/entries?limit=2&cursor={cursor}"),
            &auditor,
        )
        .await;
    assert!(next.ok(200)["items"][0]["index"].as_u64().unwrap() > cursor);
    a.s.get("/v1/audit/entries?since=yesterday", &auditor)
        .await
        .problem(400);
    // Roles: agents cannot read the log; only admins export it; another tenant's entry is 404.
    a.s.get("/v1/audit/checkpoint", &a.agent_key)
        .await
        .problem(403);
    a.s.get("/v1/audit/export", &auditor).await.problem(403);
    let theirs = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["tenant_id"] != acme_id && !e["tenant_id"].is_null())
        .unwrap()["index"]
        .as_u64()
        .unwrap();
    checkpoint_of(&a.s, theirs + 1).await;
    a.s.get(&format!("/v1/audit/entries/{theirs}"), &auditor)
        .await
        .problem(404);
}

struct Exported {
    ndjson: String,
    leaf_hashes: Vec<Hash>,
    checkpoint: String,
    verifier: NoteVerifier,
}

async fn export(a: &Acme) -> Exported {
    let size =
        a.s.get("/v1/audit/entries?limit=1000", &a.s.admin_key)
            .await
            .ok(200)["items"]
            .as_array()
            .unwrap()
            .len() as u64;
    let checkpoint = checkpoint_of(&a.s, size).await;
    let ndjson = text(&a.s, "/v1/audit/export", &a.s.admin_key).await;
    let leaf_hashes = sentinel_audit::verify::parse_leaf_hashes(
        &text(&a.s, "/v1/audit/leaf-hashes", &a.s.admin_key).await,
    )
    .unwrap();
    let verifier = NoteVerifier::from_key_string(
        text(&a.s, "/v1/audit/verifier-key", &a.s.admin_key)
            .await
            .trim(),
    )
    .unwrap();
    Exported {
        ndjson,
        leaf_hashes,
        checkpoint,
        verifier,
    }
}

fn verify(e: &Exported) -> Result<(), String> {
    sentinel_audit::verify::verify_ndjson(
        e.ndjson.as_bytes(),
        Some(&e.leaf_hashes),
        &e.checkpoint,
        &e.verifier,
    )
    .map(|_| ())
    .map_err(|err| err.to_string())
}

/// Decision log records ride along in the audit writer's commits. A record that cannot be
/// written must not stop the audit log: decisions go on being audited (and answered), and the
/// records are written once the decisions table takes them again.
#[tokio::test]
async fn a_failing_decision_log_never_stops_the_audit_log() {
    let (dir, url) = sentinel_testkit::sqlite();
    let a = Acme::on(TestServer::start(url.clone(), Some(dir), Default::default()).await).await;
    let pool = common::fail_inserts(&url, "decisions", "no_decisions", "table broken").await;

    let mut ids = Vec::new();
    for _ in 0..3 {
        let d = a.check("query_metrics", json!({"query": "up"})).await;
        assert_eq!(d["outcome"], "allow", "{d}");
        assert!(d["audit"]["index"].is_u64(), "audited: {d}");
        ids.push(d["decision_id"].clone());
    }
    let audited =
        a.s.get("/v1/audit/entries?kind=decision&limit=1000", &a.s.admin_key)
            .await;
    let audited: Vec<Value> = audited.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"]["details"]["decision_id"].clone())
        .collect();
    for id in &ids {
        assert!(audited.contains(id), "{id} is in the audit log");
    }
    let log =
        a.s.get("/v1/tenants/acme/decisions?limit=10", &a.operator_key)
            .await;
    assert_eq!(
        log.ok(200).as_array().unwrap().len(),
        0,
        "nothing written yet"
    );

    // The table takes records again: the held ones arrive, none lost.
    sqlx::query("DROP TRIGGER no_decisions")
        .execute(&pool)
        .await
        .unwrap();
    let mut logged = Vec::new();
    for _ in 0..200 {
        let log =
            a.s.get("/v1/tenants/acme/decisions?limit=10", &a.operator_key)
                .await;
        logged = log.ok(200).as_array().unwrap().clone();
        if logged.len() == ids.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let logged: Vec<Value> = logged.iter().map(|d| d["decision_id"].clone()).collect();
    for id in &ids {
        assert!(
            logged.contains(id),
            "{id} reached the decision log: {logged:?}"
        );
    }
}

#[tokio::test]
async fn tampering_with_the_database_is_detected_at_the_first_bad_index() {
    let (dir, url) = sentinel_testkit::sqlite();
    let a = Acme::on(TestServer::start(url.clone(), Some(dir), Default::default()).await).await;
    for tool in [
        "query_metrics",
        "fetch_recent_logs",
        "rollback_deployment",
        "drop_database",
        "query_metrics",
        "list_recent_deployments",
    ] {
        a.check(tool, json!({})).await;
    }
    let clean = export(&a).await;
    verify(&clean).expect("the untouched log verifies");
    let size = clean.ndjson.lines().count() as i64;
    assert!(size >= 8);
    let target = size - 3;

    let db = sentinel_store::SqlStore::connect(&url).await.unwrap();
    let sql = |q: String| {
        let pool = db.pool().clone();
        async move { sqlx::query(&q).execute(&pool).await.unwrap() }
    };
    // 1. Change a field of one entry.
    sql(format!("UPDATE audit_entries SET entry = replace(entry, '\"outcome\":\"deny\"', '\"outcome\":\"allow\"') WHERE seq = {target}")).await;
    let changed = export(&a).await;
    let err = verify(&changed).unwrap_err();
    assert!(
        err.contains(&target.to_string()),
        "names entry {target}: {err}"
    );
    // 2. Delete a row (restore the change first from the clean export).
    let original = clean
        .ndjson
        .lines()
        .nth(target as usize)
        .unwrap()
        .replace('\'', "''");
    sql(format!(
        "UPDATE audit_entries SET entry = '{original}' WHERE seq = {target}"
    ))
    .await;
    verify(&export(&a).await).expect("restored");
    sql(format!("DELETE FROM audit_entries WHERE seq = {target}")).await;
    let err = verify(&export(&a).await).unwrap_err();
    assert!(err.contains(&target.to_string()), "deleted {target}: {err}");
    // 3. Truncate the tail.
    sql(format!(
        "DELETE FROM audit_entries WHERE seq >= {}",
        target - 1
    ))
    .await;
    let err = verify(&export(&a).await).unwrap_err();
    assert!(!err.is_empty());
    // 4. Swapped and inserted rows, on the exported text itself (an operator handing over a
    //    doctored export is the same attack).
    let lines: Vec<&str> = clean.ndjson.lines().collect();
    let mut swapped = lines.clone();
    swapped.swap(2, 3);
    let e = Exported {
        ndjson: swapped.join("\n"),
        ..export_clone(&clean)
    };
    let err = verify(&e).unwrap_err();
    assert!(err.contains('2'), "swap names index 2: {err}");
    let mut inserted = lines.clone();
    inserted.insert(4, lines[4]);
    let e = Exported {
        ndjson: inserted.join("\n"),
        ..export_clone(&clean)
    };
    assert!(verify(&e).is_err());
}

fn export_clone(e: &Exported) -> Exported {
    Exported {
        ndjson: e.ndjson.clone(),
        leaf_hashes: e.leaf_hashes.clone(),
        checkpoint: e.checkpoint.clone(),
        verifier: NoteVerifier::from_key_string(&e.verifier.to_key_string()).unwrap(),
    }
}

/// Builds the Go verifier from the audit crate's interop program (Debian's golang-go and
/// golang-golang-x-mod-dev, GOPATH mode: no network).
fn go_verifier() -> std::path::PathBuf {
    let src =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../audit/tests/interop/go/main.go");
    let out = std::env::temp_dir().join(format!("sentinel-interop-{}", std::process::id()));
    let gopath = std::env::var("SENTINEL_GOPATH").unwrap_or_else(|_| "/usr/share/gocode".into());
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg(&src)
        .env("GO111MODULE", "off")
        .env("GOPATH", &gopath)
        .env("GOCACHE", std::env::temp_dir().join("sentinel-gocache"))
        .env("GOFLAGS", "-mod=mod")
        .status()
        .expect("Go is installed (scripts/test.sh installs golang-go)");
    assert!(status.success(), "go build failed");
    out
}

#[tokio::test]
async fn go_sumdb_verifies_what_the_api_serves() {
    let a = Acme::on(TestServer::sqlite().await).await;
    for tool in ["query_metrics", "rollback_deployment", "drop_database"] {
        a.check(tool, json!({})).await;
    }
    let old = export(&a).await;
    let old_cp = Checkpoint::verify_signed(&old.checkpoint, &old.verifier).unwrap();
    a.check("fetch_recent_logs", json!({})).await;
    let e = export(&a).await;
    let records: Vec<String> = e.ndjson.lines().map(|l| B64.encode(l)).collect();
    let mut inclusion = Vec::new();
    for index in [0u64, (records.len() / 2) as u64, records.len() as u64 - 1] {
        let r =
            a.s.get(&format!("/v1/audit/entries/{index}"), &a.s.admin_key)
                .await;
        let r = r.ok(200);
        inclusion.push(
            json!({"index": index, "leaf_hash": r["leaf_hash"], "proof": r["inclusion_proof"]}),
        );
    }
    let cp = Checkpoint::verify_signed(&e.checkpoint, &e.verifier).unwrap();
    let c =
        a.s.get(
            &format!("/v1/audit/consistency?from={}&to={}", old_cp.size, cp.size),
            &a.s.admin_key,
        )
        .await;
    let case = json!({
        "verifier_key": e.verifier.to_key_string(),
        "checkpoint": e.checkpoint,
        "records": records,
        "inclusion": inclusion,
        "consistency": [{"old_size": old_cp.size, "old_root": B64.encode(old_cp.root_hash), "proof": c.ok(200)["proof"]}],
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.json");
    std::fs::write(&file, case.to_string()).unwrap();
    let go = go_verifier();
    let out = Command::new(&go).arg("verify").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "Go rejected our log: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And Go rejects a doctored record.
    let mut bad = case.clone();
    bad["records"][1] = json!(B64.encode("{\"seq\":1,\"forged\":true}"));
    std::fs::write(&file, bad.to_string()).unwrap();
    let out = Command::new(&go).arg("verify").arg(&file).output().unwrap();
    assert!(!out.status.success(), "Go accepted a forged record");
    let _ = std::fs::remove_file(go);
}

#[tokio::test]
async fn malformed_audit_queries() {
    let s = TestServer::sqlite().await;
    let k = &s.admin_key;
    s.get("/v1/audit/consistency?from=0", k).await.problem(400);
    s.get("/v1/audit/consistency?from=5&to=2", k)
        .await
        .problem(400);
    s.get("/v1/audit/entries/not-a-number", k)
        .await
        .problem(400);
    s.get("/v1/audit/entries/999999", k).await.problem(404);
    s.get("/v1/audit/entries?limit=0", k).await.problem(400);
    s.get("/v1/audit/export?size=999999", k).await.problem(400);
    let _ = s.call(Method::GET, "/v1/audit/checkpoint", k, None).await;
}
