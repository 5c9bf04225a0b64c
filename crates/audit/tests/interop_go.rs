//! Interop: Go's `golang.org/x/mod/sumdb/note` and `sumdb/tlog` verify what this
//! crate produces (checkpoints, the tree and its stored-hash layout, inclusion and
//! consistency proofs), and this crate verifies a note signed by Go.
//!
//! Needs Debian's `golang-go` and `golang-golang-x-mod-dev` (sources under
//! `/usr/share/gocode`, override with `SENTINEL_GOPATH`). Fails when Go is missing
//! unless `SENTINEL_SKIP_INTEROP=1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use sentinel_audit::checkpoint::{Checkpoint, NoteSigner, NoteVerifier};
use sentinel_audit::entry::{AuditEntry, EntryKind};
use sentinel_audit::merkle::{prove_record, prove_tree, tree_hash, Hash, MemoryHashStore};
use serde_json::{json, Value};

const ORIGIN: &str = "sentinel.test/audit";

fn skip() -> bool {
    if std::env::var("SENTINEL_SKIP_INTEROP").as_deref() == Ok("1") {
        eprintln!("SENTINEL_SKIP_INTEROP=1: Go interop test skipped");
        return true;
    }
    false
}

/// Builds tests/interop/go once per test binary.
fn go_tool() -> &'static Path {
    static TOOL: OnceLock<PathBuf> = OnceLock::new();
    TOOL.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let out = tmp.join("sentinel-interop-go");
        let gopath =
            std::env::var("SENTINEL_GOPATH").unwrap_or_else(|_| "/usr/share/gocode".into());
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/go/main.go");
        let status = Command::new("go")
            .arg("build")
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .env("GO111MODULE", "off")
            .env("GOPATH", &gopath)
            .env("GOCACHE", tmp.join("gocache"))
            .env("GOFLAGS", "")
            .status()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `go` ({e}): install Debian's golang-go and \
                     golang-golang-x-mod-dev, or set SENTINEL_SKIP_INTEROP=1"
                )
            });
        assert!(
            status.success(),
            "go build of {} failed (is golang-golang-x-mod-dev installed under {gopath}?)",
            src.display()
        );
        out
    })
}

fn b64(h: &Hash) -> String {
    B64.encode(h)
}

struct Log {
    records: Vec<Vec<u8>>,
    store: MemoryHashStore,
    signer: NoteSigner,
}

fn build_log(n: u64) -> Log {
    let mut store = MemoryHashStore::new();
    let mut records = Vec::new();
    for seq in 0..n {
        let e = AuditEntry {
            seq,
            time: format!("2025-06-01T12:00:{:02}Z", seq % 60),
            tenant: Some("acme".into()),
            actor: format!("agent-{}", seq % 3),
            kind: EntryKind::Decision,
            policy_revision: Some("sha256:0123".into()),
            request_digest: None,
            details: json!({"outcome": if seq % 2 == 0 { "allow" } else { "deny" }, "n": seq}),
        };
        let bytes = e.to_canonical_bytes();
        store.append(&bytes).unwrap();
        records.push(bytes);
    }
    let signer = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[42; 32])).unwrap();
    Log {
        records,
        store,
        signer,
    }
}

/// The JSON case the Go tool reads, for the tree of size `t`.
fn case(log: &Log, t: u64) -> Value {
    let root = tree_hash(t, &log.store).unwrap();
    let cp = Checkpoint::new(ORIGIN, t, root).sign(&log.signer).unwrap();
    let inclusion: Vec<Value> = (0..t)
        .map(|i| {
            let proof = prove_record(t, i, &log.store).unwrap();
            json!({
                "index": i,
                "leaf_hash": b64(&sentinel_audit::merkle::record_hash(&log.records[i as usize])),
                "proof": proof.iter().map(b64).collect::<Vec<_>>(),
            })
        })
        .collect();
    let consistency: Vec<Value> = (1..=t)
        .map(|n| {
            json!({
                "old_size": n,
                "old_root": b64(&tree_hash(n, &log.store).unwrap()),
                "proof": prove_tree(t, n, &log.store).unwrap().iter().map(b64).collect::<Vec<_>>(),
            })
        })
        .collect();
    let stored_count = sentinel_audit::merkle::stored_hash_count(t) as usize;
    json!({
        "verifier_key": log.signer.verifier().to_key_string(),
        "checkpoint": cp,
        "records": log.records[..t as usize].iter().map(|r| B64.encode(r)).collect::<Vec<_>>(),
        "stored_hashes": log.store.stored()[..stored_count].iter().map(b64).collect::<Vec<_>>(),
        "inclusion": inclusion,
        "consistency": consistency,
    })
}

/// Runs `verify` on a case; returns (success, combined output).
fn go_verify(name: &str, case: &Value) -> (bool, String) {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interop-{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(case).unwrap()).unwrap();
    let out = Command::new(go_tool())
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn flip_b64_hash(v: &mut Value) {
    let mut raw = B64.decode(v.as_str().unwrap()).unwrap();
    raw[0] ^= 0x80;
    *v = Value::String(B64.encode(raw));
}

#[test]
fn go_verifies_checkpoints_trees_and_proofs() {
    if skip() {
        return;
    }
    let log = build_log(37);
    for t in [1, 2, 3, 7, 8, 9, 16, 31, 37] {
        let (ok, out) = go_verify(&format!("ok-{t}"), &case(&log, t));
        assert!(ok, "Go rejected size {t}: {out}");
        assert!(out.starts_with("ok:"), "{out}");
    }
}

#[test]
fn go_rejects_tampering() {
    if skip() {
        return;
    }
    let log = build_log(21);
    let good = case(&log, 21);

    let mut c = good.clone();
    flip_b64_hash(&mut c["inclusion"][5]["proof"][1]);
    let (ok, out) = go_verify("bad-inclusion", &c);
    assert!(!ok && out.contains("inclusion of record 5"), "{out}");

    let mut c = good.clone();
    flip_b64_hash(&mut c["inclusion"][9]["leaf_hash"]);
    let (ok, out) = go_verify("bad-leaf", &c);
    assert!(!ok && out.contains("inclusion of record 9"), "{out}");

    let mut c = good.clone();
    flip_b64_hash(&mut c["consistency"][12]["proof"][0]);
    let (ok, out) = go_verify("bad-consistency", &c);
    assert!(!ok && out.contains("consistency 13 -> 21"), "{out}");

    let mut c = good.clone();
    let cp = c["checkpoint"]
        .as_str()
        .unwrap()
        .replacen("\n21\n", "\n22\n", 1);
    c["checkpoint"] = Value::String(cp);
    let (ok, out) = go_verify("bad-checkpoint", &c);
    assert!(!ok && out.contains("checkpoint signature"), "{out}");

    let mut c = good.clone();
    let mut rec = B64.decode(c["records"][3].as_str().unwrap()).unwrap();
    rec[2] ^= 1;
    c["records"][3] = Value::String(B64.encode(rec));
    let (ok, out) = go_verify("bad-record", &c);
    assert!(!ok && out.contains("root recomputed"), "{out}");

    let mut c = good;
    let other = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[43; 32])).unwrap();
    c["verifier_key"] = Value::String(other.verifier().to_key_string());
    let (ok, out) = go_verify("bad-key", &c);
    assert!(!ok && out.contains("checkpoint signature"), "{out}");
}

#[test]
fn rust_verifies_a_go_signed_checkpoint_and_loads_go_keys() {
    if skip() {
        return;
    }
    let log = build_log(10);
    let text = Checkpoint::new(ORIGIN, 10, log.store.root().unwrap())
        .to_note_text()
        .unwrap();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-go-sign.txt");
    std::fs::write(&path, &text).unwrap();
    // Several fresh Go keys, so key strings with '+' in their base64 occur.
    for _ in 0..8 {
        let out = Command::new(go_tool())
            .args(["sign", ORIGIN])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();

        let verifier = NoteVerifier::from_key_string(v["verifier_key"].as_str().unwrap()).unwrap();
        let signer = NoteSigner::from_key_string(v["signer_key"].as_str().unwrap()).unwrap();
        // Our rendering of Go's keys is byte-identical to Go's.
        assert_eq!(
            verifier.to_key_string(),
            v["verifier_key"].as_str().unwrap()
        );
        assert_eq!(signer.to_key_string(), v["signer_key"].as_str().unwrap());
        assert_eq!(signer.verifier(), verifier);

        let note = v["note"].as_str().unwrap();
        let cp = Checkpoint::verify_signed(note, &verifier).unwrap();
        assert_eq!(cp.size, 10);
        assert_eq!(cp.root_hash, log.store.root().unwrap());
        // Ed25519 is deterministic: our signature over the same text is Go's.
        assert_eq!(signer.sign_note(&text).unwrap(), note);
        assert!(Checkpoint::verify_signed(&note.replace("\n10\n", "\n11\n"), &verifier).is_err());
    }
}
