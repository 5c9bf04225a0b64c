//! `sentinel audit` through the real binary: fetch the log and verify it offline, name the
//! first bad index of a tampered export, verify inclusion and consistency proofs locally, and
//! refuse a checkpoint that a pinned key did not sign.

mod common;

use std::path::Path;

use common::{ok, run, run_as, sentinel, start, stderr, stdout, Server};
use sentinel_audit::note::NoteSigner;
use serde_json::Value;

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A tenant `acme` whose agent `sre-bot` made three decisions under the shipped SRE policy;
/// returns the agent's key and the decisions' audit indexes (allow, approval, deny).
fn three_decisions(server: &Server) -> (String, Vec<u64>) {
    ok(run(server, &["tenants", "create", "acme"]));
    ok(run(server, &["agents", "create", "-t", "acme", "sre-bot"]));
    let created = ok(run(
        server,
        &[
            "keys", "create", "-t", "acme", "--role", "agent", "--agent", "sre-bot", "-o", "json",
        ],
    ));
    let key = serde_json::from_str::<Value>(&created).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let sre = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/sre");
    ok(run(
        server,
        &["policy", "push", arg(&sre), "-t", "acme", "--activate"],
    ));
    let indexes = ["query_metrics", "rollback_deployment", "drop_database"]
        .iter()
        .map(|tool| decide(server, &key, tool))
        .collect();
    (key, indexes)
}

/// One decision; returns its audit index.
fn decide(server: &Server, key: &str, tool: &str) -> u64 {
    let out = run_as(server, key, &["check", "--tool", tool, "-o", "json"]);
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    d["audit"]["index"]
        .as_u64()
        .expect("decisions carry their audit index")
}

/// Fails unless the command exits 1 with `needle` in its error.
fn fails_with(out: std::process::Output, needle: &str) {
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {err}",
        stdout(&out)
    );
    assert!(err.contains(needle), "{err}");
}

#[test]
fn fetch_verify_offline_and_name_the_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let (_, indexes) = three_decisions(&server);
    let last = *indexes.last().unwrap();
    // `proof` waits (briefly) for a checkpoint that covers the last decision.
    assert!(ok(run(&server, &["audit", "proof", &last.to_string()])).contains("VERIFIED"));

    let out = dir.path().join("audit");
    let fetched = run(&server, &["audit", "fetch", "--out", arg(&out)]);
    let progress = stderr(&fetched);
    ok(fetched);
    assert!(progress.contains("export.ndjson: "), "{progress}");
    for file in [
        "export.ndjson",
        "leaf-hashes.txt",
        "checkpoint.txt",
        "verifier-key.txt",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }

    // Offline: no server, no URL, no key but the log's.
    let verify = |d: &Path| {
        sentinel()
            .args(["audit", "verify", "--dir", arg(d)])
            .env("SENTINEL_URL", "http://127.0.0.1:9")
            .output()
            .unwrap()
    };
    let verified = ok(verify(&out));
    assert!(
        verified.starts_with(&format!("VERIFIED  {} entries\n", last + 1)),
        "{verified}"
    );
    assert!(
        verified.contains("origin    sentinel.local/audit\n"),
        "{verified}"
    );

    // Change one field of the denied decision: its index is named.
    let tampered = dir.path().join("tampered");
    std::fs::create_dir(&tampered).unwrap();
    for file in [
        "export.ndjson",
        "leaf-hashes.txt",
        "checkpoint.txt",
        "verifier-key.txt",
    ] {
        std::fs::copy(out.join(file), tampered.join(file)).unwrap();
    }
    let denied = indexes[2] as usize;
    let export = std::fs::read_to_string(out.join("export.ndjson")).unwrap();
    let lines: Vec<String> = export
        .lines()
        .enumerate()
        .map(|(i, l)| match i == denied {
            true => l.replace(r#""outcome":"deny""#, r#""outcome":"allow""#),
            false => l.to_string(),
        })
        .collect();
    assert_ne!(lines[denied], export.lines().nth(denied).unwrap());
    std::fs::write(tampered.join("export.ndjson"), lines.join("\n") + "\n").unwrap();
    fails_with(
        verify(&tampered),
        &format!("verification FAILED: the first bad entry is index {denied}:"),
    );
    // Without the leaf hashes the root still does not match.
    let out = sentinel()
        .args(["audit", "verify", "--export"])
        .arg(tampered.join("export.ndjson"))
        .arg("--checkpoint")
        .arg(tampered.join("checkpoint.txt"))
        .arg("--key")
        .arg(tampered.join("verifier-key.txt"))
        .output()
        .unwrap();
    fails_with(out, "does not match the checkpoint");

    // Only admins may take the whole log.
    let auditor = ok(run(
        &server,
        &[
            "keys", "create", "-t", "acme", "--role", "auditor", "-o", "json",
        ],
    ));
    let auditor = serde_json::from_str::<Value>(&auditor).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = run_as(
        &server,
        &auditor,
        &["audit", "fetch", "--out", arg(&dir.path().join("no"))],
    );
    fails_with(refused, "403");
}

#[test]
fn proofs_verify_locally_and_a_wrong_pinned_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let (agent_key, indexes) = three_decisions(&server);
    let auditor = ok(run(
        &server,
        &[
            "keys", "create", "-t", "acme", "--role", "auditor", "-o", "json",
        ],
    ));
    let auditor = serde_json::from_str::<Value>(&auditor).unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();

    let index = indexes[1].to_string();
    let proof = ok(run_as(&server, &auditor, &["audit", "proof", &index]));
    assert!(proof.contains(r#""tool":"rollback_deployment""#), "{proof}");
    assert!(proof.contains(&format!("index     {index}\n")), "{proof}");
    assert!(proof.contains("\nproof     "), "{proof}");
    assert!(
        proof.contains(&format!("VERIFIED  entry {index} is in the log")),
        "{proof}"
    );

    // Pinned: the right key verifies; another key named like the log's does not.
    let as_json = ok(run_as(
        &server,
        &auditor,
        &["audit", "proof", &index, "-o", "json"],
    ));
    let as_json: Value = serde_json::from_str(&as_json).unwrap();
    assert_eq!(as_json["verified"], true);
    let key = dir.path().join("pinned.key");
    let published = ok(run(&server, &["audit", "fetch", "--out", arg(dir.path())]));
    assert!(published.is_empty(), "fetch writes files, not stdout");
    std::fs::copy(dir.path().join("verifier-key.txt"), &key).unwrap();
    let pinned = ok(run_as(
        &server,
        &auditor,
        &["audit", "proof", &index, "--key", arg(&key)],
    ));
    assert!(pinned.contains("VERIFIED"), "{pinned}");
    let impostor = NoteSigner::generate("sentinel.local/audit").unwrap();
    let wrong = impostor.verifier().to_key_string();
    fails_with(
        run_as(
            &server,
            &auditor,
            &["audit", "proof", &index, "--key", &wrong],
        ),
        "NOT VERIFIED: the checkpoint is not validly signed",
    );

    // The log grows; the checkpoint saved above is a prefix of the new one.
    let old = dir.path().join("checkpoint.txt");
    let newer = decide(&server, &agent_key, "query_metrics");
    ok(run(&server, &["audit", "proof", &newer.to_string()]));
    let grown = ok(run_as(
        &server,
        &auditor,
        &["audit", "consistency", "--old", arg(&old)],
    ));
    assert!(grown.contains("VERIFIED  the log of"), "{grown}");
    let old_size = std::fs::read_to_string(&old).unwrap();
    let old_size = old_size.lines().nth(1).unwrap();
    assert!(
        grown.contains(&format!("extends the log of {old_size} ")),
        "{grown}"
    );
    fails_with(
        run_as(
            &server,
            &auditor,
            &["audit", "consistency", "--old", arg(&old), "--key", &wrong],
        ),
        "NOT VERIFIED",
    );

    // The list, filtered.
    let denied = ok(run_as(
        &server,
        &auditor,
        &[
            "audit",
            "entries",
            "--kind",
            "decision",
            "--outcome",
            "deny",
        ],
    ));
    assert!(denied.starts_with("INDEX"), "{denied}");
    assert!(denied.contains("drop_database"), "{denied}");
    assert!(!denied.contains("query_metrics"), "{denied}");
}
