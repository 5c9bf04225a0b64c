//! Interop: PyPI `securesystemslib` verifies our DSSE envelopes and
//! `in-toto-attestation` validates our Statement v1 (tests/interop/python).
//!
//! Python comes from `SENTINEL_INTEROP_PYTHON` (a venv with
//! tests/interop/python/requirements.txt installed), default `python3`. The test
//! fails if the script fails or cannot run, unless `SENTINEL_SKIP_INTEROP=1`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use sentinel_audit::checkpoint::{Checkpoint, NoteSigner};
use sentinel_audit::dsse::{sign_envelope, DsseSigner, Envelope};
use sentinel_audit::intoto::{
    ApprovalRecord, AuditReference, InputLabel, ProvenancePredicate, Statement, Subject,
    INTOTO_PAYLOAD_TYPE, PROVENANCE_PREDICATE_TYPE,
};
use sentinel_audit::merkle::{prove_record, record_hash, MemoryHashStore};

fn skip() -> bool {
    if std::env::var("SENTINEL_SKIP_INTEROP").as_deref() == Ok("1") {
        eprintln!("SENTINEL_SKIP_INTEROP=1: Python interop test skipped");
        return true;
    }
    false
}

fn python_check(name: &str, env: &Envelope, signer: &DsseSigner) -> (bool, String) {
    let python = std::env::var("SENTINEL_INTEROP_PYTHON").unwrap_or_else(|_| "python3".into());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("manifest-{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(env).unwrap()).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/python/check_manifest.py");
    let pubkey = hex::encode(signer.verifier().verifying_key().as_bytes());
    let out = Command::new(&python)
        .arg(&script)
        .arg(&path)
        .arg(&pubkey)
        .arg(PROVENANCE_PREDICATE_TYPE)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {python} ({e}); set SENTINEL_INTEROP_PYTHON or SENTINEL_SKIP_INTEROP=1"
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("ModuleNotFoundError"),
        "{python} lacks the pinned packages (pip install -r tests/interop/python/requirements.txt): {text}"
    );
    (out.status.success(), text)
}

/// A real manifest: the action's decision is entry 5 of a signed log.
fn manifest() -> (Statement, DsseSigner) {
    let mut store = MemoryHashStore::new();
    for i in 0..8 {
        store.append(format!("{{\"seq\":{i}}}").as_bytes()).unwrap();
    }
    let note_signer =
        NoteSigner::new("sentinel.test/audit", SigningKey::from_bytes(&[2; 32])).unwrap();
    let checkpoint = Checkpoint::new("sentinel.test/audit", 8, store.root().unwrap())
        .sign(&note_signer)
        .unwrap();
    let action = br#"{"arguments":{"namespace":"payments","pod":"api-7f9c"},"target":{"tool":"k8s.restart_pod"}}"#;
    let predicate = ProvenancePredicate {
        action_type: "tool_call:k8s.restart_pod".into(),
        parameters_digest: BTreeMap::from([(
            "sha256".to_string(),
            hex::encode(sentinel_audit::canonical::sha256(action)),
        )]),
        policy_revision: "sha256:5e1f".into(),
        approvals: vec![ApprovalRecord {
            who: "alice@example.com".into(),
            when: "2025-06-01T12:00:00Z".into(),
        }],
        input_provenance: vec![InputLabel {
            source: "tool:web.fetch".into(),
            trust: "untrusted".into(),
        }],
        audit: AuditReference {
            origin: "sentinel.test/audit".into(),
            index: 5,
            leaf_hash: B64.encode(record_hash(b"{\"seq\":5}")),
            checkpoint,
            inclusion_proof: prove_record(8, 5, &store)
                .unwrap()
                .iter()
                .map(|h| B64.encode(h))
                .collect(),
        },
    };
    let st = Statement::provenance(
        vec![
            Subject::sha256_of("action", action),
            Subject::sha256_of("result", b"{\"status\":\"restarted\"}"),
        ],
        &predicate,
    );
    (st, DsseSigner::new(SigningKey::from_bytes(&[9; 32])))
}

#[test]
fn securesystemslib_and_in_toto_accept_our_manifest() {
    if skip() {
        return;
    }
    let (st, signer) = manifest();
    let env = st.sign(&signer);
    let (ok, out) = python_check("good", &env, &signer);
    assert!(ok, "{out}");
    assert!(
        out.contains(signer.keyid()),
        "securesystemslib computed another key id: {out}"
    );
}

#[test]
fn python_rejects_tampered_manifests() {
    if skip() {
        return;
    }
    let (st, signer) = manifest();
    let env = st.sign(&signer);

    // Payload changed after signing.
    let mut bad = env.clone();
    let mut payload = env.payload_bytes().unwrap();
    let pos = payload.windows(5).position(|w| w == b"alice").unwrap();
    payload[pos] = b'm';
    bad.payload = B64.encode(&payload);
    let (ok, out) = python_check("payload", &bad, &signer);
    assert!(!ok && out.contains("DSSE signature"), "{out}");

    // Signature bit flipped.
    let mut bad = env.clone();
    let mut sig = B64.decode(&bad.signatures[0].sig).unwrap();
    sig[3] ^= 1;
    bad.signatures[0].sig = B64.encode(sig);
    let (ok, out) = python_check("sig", &bad, &signer);
    assert!(!ok && out.contains("DSSE signature"), "{out}");

    // Signed by another key.
    let other = DsseSigner::new(SigningKey::from_bytes(&[10; 32]));
    let (ok, out) = python_check("other-key", &st.sign(&other), &signer);
    assert!(!ok && out.contains("DSSE signature"), "{out}");

    // Correctly signed, but not a valid in-toto statement (no subjects).
    let mut empty = st.clone();
    empty.subject.clear();
    let payload = sentinel_audit::canonical::canonical_json(&serde_json::to_value(&empty).unwrap());
    let env = sign_envelope(INTOTO_PAYLOAD_TYPE, &payload, &signer);
    let (ok, out) = python_check("no-subject", &env, &signer);
    assert!(!ok && out.contains("in-toto statement"), "{out}");
}
