//! Tamper tests for offline verification: each way of editing an exported log is
//! detected, and the error names the first bad position.

use ed25519_dalek::SigningKey;
use sentinel_audit::checkpoint::{Checkpoint, NoteSigner};
use sentinel_audit::entry::{AuditEntry, EntryKind};
use sentinel_audit::merkle::{Hash, MemoryHashStore};
use sentinel_audit::verify::{parse_leaf_hashes, verify_export, verify_ndjson};
use sentinel_audit::AuditError;
use serde_json::json;

const N: u64 = 50;

struct Export {
    lines: Vec<Vec<u8>>,
    leaves: Vec<Hash>,
    checkpoint: String,
    signer: NoteSigner,
}

fn export() -> Export {
    let mut store = MemoryHashStore::new();
    let mut lines = Vec::new();
    let mut leaves = Vec::new();
    for seq in 0..N {
        let e = AuditEntry {
            seq,
            time: format!("2025-06-01T12:{:02}:00Z", seq % 60),
            tenant: Some("acme".into()),
            actor: "sre-bot".into(),
            kind: if seq % 5 == 0 {
                EntryKind::Approval
            } else {
                EntryKind::Decision
            },
            policy_revision: Some("sha256:01".into()),
            request_digest: Some(format!("sha256:{seq:064x}")),
            details: json!({"outcome": "allow", "tool": format!("t{}", seq % 7)}),
        };
        let bytes = e.to_canonical_bytes();
        leaves.push(e.leaf_hash());
        store.append(&bytes).unwrap();
        lines.push(bytes);
    }
    let signer = NoteSigner::new("sentinel.test/audit", SigningKey::from_bytes(&[4; 32])).unwrap();
    let checkpoint = Checkpoint::new("sentinel.test/audit", N, store.root().unwrap())
        .sign(&signer)
        .unwrap();
    Export {
        lines,
        leaves,
        checkpoint,
        signer,
    }
}

fn verify(x: &Export, lines: &[Vec<u8>], with_leaves: bool) -> sentinel_audit::Result<u64> {
    let leaves = with_leaves.then_some(x.leaves.as_slice());
    verify_export(lines, leaves, &x.checkpoint, &x.signer.verifier()).map(|v| v.verified_entries)
}

fn bad_index(r: sentinel_audit::Result<u64>) -> u64 {
    match r {
        Err(AuditError::BadEntry { index, .. }) => index,
        other => panic!("expected BadEntry, got {other:?}"),
    }
}

/// Replaces `"from"` by `"to"` inside line `i` (both must keep it canonical).
fn edit(lines: &mut [Vec<u8>], i: usize, from: &str, to: &str) {
    let s = String::from_utf8(lines[i].clone()).unwrap();
    assert!(s.contains(from));
    lines[i] = s.replacen(from, to, 1).into_bytes();
}

#[test]
fn intact_log_verifies() {
    let x = export();
    assert_eq!(verify(&x, &x.lines, false).unwrap(), N);
    let v = verify_export(
        &x.lines,
        Some(&x.leaves),
        &x.checkpoint,
        &x.signer.verifier(),
    )
    .unwrap();
    assert!(v.leaf_hashes_authenticated);
    assert_eq!(v.unverified_tail, 0);
    // NDJSON text with a trailing newline, and leaf hashes as exported text.
    let mut ndjson = x.lines.join(&b'\n');
    ndjson.push(b'\n');
    let mut text = String::new();
    for l in &x.leaves {
        use base64::Engine as _;
        text.push_str(&base64::engine::general_purpose::STANDARD.encode(l));
        text.push('\n');
    }
    let leaves = parse_leaf_hashes(&text).unwrap();
    verify_ndjson(
        &ndjson[..],
        Some(&leaves),
        &x.checkpoint,
        &x.signer.verifier(),
    )
    .unwrap();
}

#[test]
fn changed_field_is_named() {
    let x = export();
    let mut lines = x.lines.clone();
    edit(
        &mut lines,
        17,
        "\"outcome\":\"allow\"",
        "\"outcome\":\"deny\"",
    );
    assert_eq!(bad_index(verify(&x, &lines, true)), 17);
    // Without leaf hashes the change is still detected, as a root mismatch.
    assert!(matches!(
        verify(&x, &lines, false),
        Err(AuditError::RootMismatch(_))
    ));
}

#[test]
fn deleted_row_is_named() {
    let x = export();
    for with_leaves in [true, false] {
        let mut lines = x.lines.clone();
        lines.remove(23);
        assert_eq!(bad_index(verify(&x, &lines, with_leaves)), 23);
    }
}

#[test]
fn swapped_rows_are_named() {
    let x = export();
    for with_leaves in [true, false] {
        let mut lines = x.lines.clone();
        lines.swap(8, 30);
        assert_eq!(bad_index(verify(&x, &lines, with_leaves)), 8);
    }
    // Swapping the contents but keeping the sequence numbers in place.
    let mut lines = x.lines.clone();
    let a = String::from_utf8(lines[8].clone()).unwrap();
    let b = String::from_utf8(lines[9].clone()).unwrap();
    lines[8] = b.replace("\"seq\":9", "\"seq\":8").into_bytes();
    lines[9] = a.replace("\"seq\":8", "\"seq\":9").into_bytes();
    assert_eq!(bad_index(verify(&x, &lines, true)), 8);
}

#[test]
fn inserted_row_is_named() {
    let x = export();
    // A forged entry slipped in at position 12, later rows renumbered.
    let mut lines = x.lines.clone();
    let forged = AuditEntry {
        seq: 12,
        time: "2025-06-01T12:12:30Z".into(),
        tenant: Some("acme".into()),
        actor: "mallory".into(),
        kind: EntryKind::Decision,
        policy_revision: None,
        request_digest: None,
        details: json!({"outcome": "allow"}),
    };
    lines.insert(12, forged.to_canonical_bytes());
    for (i, line) in lines.iter_mut().enumerate().skip(13) {
        let mut e = AuditEntry::from_canonical_bytes(line).unwrap();
        e.seq = i as u64;
        *line = e.to_canonical_bytes();
    }
    assert_eq!(bad_index(verify(&x, &lines, true)), 12);
    assert!(verify(&x, &lines, false).is_err());

    // Inserted without renumbering: the duplicate sequence number gives it away.
    let mut lines = x.lines.clone();
    lines.insert(12, forged.to_canonical_bytes());
    assert_eq!(bad_index(verify(&x, &lines, true)), 12);
    assert_eq!(bad_index(verify(&x, &lines, false)), 13);
}

#[test]
fn truncated_log_is_named() {
    let x = export();
    for with_leaves in [true, false] {
        let lines = &x.lines[..41];
        assert_eq!(bad_index(verify(&x, lines, with_leaves)), 41);
    }
}

#[test]
fn reformatted_line_is_named() {
    let x = export();
    let mut lines = x.lines.clone();
    let v: serde_json::Value = serde_json::from_slice(&lines[4]).unwrap();
    lines[4] = serde_json::to_vec_pretty(&v).unwrap();
    assert_eq!(bad_index(verify(&x, &lines, false)), 4);
}

#[test]
fn forged_or_foreign_checkpoint_is_rejected() {
    let x = export();
    let forged = x.checkpoint.replacen("\n50\n", "\n49\n", 1);
    let r = verify_export(&x.lines, None, &forged, &x.signer.verifier());
    assert!(matches!(r, Err(AuditError::Signature(_))), "{r:?}");
    let other = NoteSigner::new("sentinel.test/audit", SigningKey::from_bytes(&[5; 32])).unwrap();
    let r = verify_export(&x.lines, None, &x.checkpoint, &other.verifier());
    assert!(matches!(r, Err(AuditError::Signature(_))), "{r:?}");
}

#[test]
fn entries_after_the_checkpoint_are_reported_not_verified() {
    let x = export();
    let mut lines = x.lines.clone();
    let mut extra = AuditEntry::from_canonical_bytes(&lines[0]).unwrap();
    extra.seq = N;
    lines.push(extra.to_canonical_bytes());
    let v = verify_export(&lines, Some(&x.leaves), &x.checkpoint, &x.signer.verifier()).unwrap();
    assert_eq!((v.verified_entries, v.unverified_tail), (N, 1));
}

#[test]
fn wrong_leaf_hashes_are_ignored_not_trusted() {
    let x = export();
    let mut leaves = x.leaves.clone();
    leaves[3][0] ^= 1;
    let v = verify_export(&x.lines, Some(&leaves), &x.checkpoint, &x.signer.verifier()).unwrap();
    assert!(!v.leaf_hashes_authenticated);
}
