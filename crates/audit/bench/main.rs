//! `audit-bench`: hash-only timing of the audit tree (no storage, no fsync), and of canonical JSON.
//!
//! Reports medians over several rounds: appends/s into the in-memory stored-hash
//! tree (canonical entry bytes precomputed), inclusion and consistency proof
//! generation, proof checking, and checkpoint signing/verification.
//!
//!     cargo run --release --bin audit-bench -- [entries] [rounds]

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use sentinel_audit::checkpoint::{Checkpoint, NoteSigner};
use sentinel_audit::entry::{AuditEntry, EntryKind};
use sentinel_audit::merkle::{
    check_record, check_tree, prove_record, prove_tree, record_hash, tree_hash, MemoryHashStore,
};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median time of one call of `f`, measured over `rounds` batches of `per` calls.
fn per_op(rounds: usize, per: u64, mut f: impl FnMut(u64)) -> Duration {
    let samples = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for i in 0..per {
                f(i);
            }
            t.elapsed() / per as u32
        })
        .collect();
    median(samples)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);

    let entries: Vec<Vec<u8>> = (0..n)
        .map(|seq| {
            AuditEntry {
                seq,
                time: "2025-06-01T12:00:00.000Z".into(),
                tenant: Some("acme".into()),
                actor: "sre-bot".into(),
                kind: EntryKind::Decision,
                policy_revision: Some(format!("sha256:{:064x}", 7)),
                request_digest: Some(format!("sha256:{seq:064x}")),
                details: serde_json::json!({"outcome": "allow", "tool": "k8s.restart_pod", "risk": "safe"}),
            }
            .to_canonical_bytes()
        })
        .collect();
    let avg_len = entries.iter().map(Vec::len).sum::<usize>() / entries.len();

    // Appends: full rebuild per round.
    let mut append_times = Vec::new();
    let mut store = MemoryHashStore::new();
    for _ in 0..rounds {
        store = MemoryHashStore::new();
        let t = Instant::now();
        for e in &entries {
            store.append(e).unwrap();
        }
        append_times.push(t.elapsed());
    }
    let append = median(append_times);
    println!(
        "append (leaf + node hashes, {avg_len}-byte entries): {:.0} appends/s ({n} entries, median of {rounds})",
        n as f64 / append.as_secs_f64()
    );

    let t = n;
    let th = tree_hash(t, &store).unwrap();
    let pick = |i: u64| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) % t;
    let canon = |i: u64| record_hash(&entries[pick(i) as usize]);

    let d = per_op(rounds, 20_000, |i| {
        black_box(prove_record(t, pick(i), &store).unwrap());
    });
    println!(
        "inclusion proof generation (size {t}): {:.2} µs",
        d.as_secs_f64() * 1e6
    );
    let proofs: Vec<_> = (0..1000)
        .map(|i| prove_record(t, pick(i), &store).unwrap())
        .collect();
    let d = per_op(rounds, 20_000, |i| {
        let j = i % 1000;
        check_record(&proofs[j as usize], t, &th, pick(j), &canon(j)).unwrap();
    });
    println!(
        "inclusion proof verification: {:.2} µs (proof length {})",
        d.as_secs_f64() * 1e6,
        proofs[0].len()
    );

    let d = per_op(rounds, 20_000, |i| {
        black_box(prove_tree(t, 1 + pick(i) % t, &store).unwrap());
    });
    println!(
        "consistency proof generation: {:.2} µs",
        d.as_secs_f64() * 1e6
    );
    let olds: Vec<_> = (0..200u64)
        .map(|i| {
            let m = 1 + pick(i) % t;
            (
                m,
                tree_hash(m, &store).unwrap(),
                prove_tree(t, m, &store).unwrap(),
            )
        })
        .collect();
    let d = per_op(rounds, 20_000, |i| {
        let (m, h, p) = &olds[(i % 200) as usize];
        check_tree(p, t, &th, *m, h).unwrap();
    });
    println!(
        "consistency proof verification: {:.2} µs",
        d.as_secs_f64() * 1e6
    );

    let d = per_op(rounds, 20_000, |_| {
        black_box(tree_hash(t, &store).unwrap());
    });
    println!("tree hash of size {t}: {:.2} µs", d.as_secs_f64() * 1e6);

    let signer = NoteSigner::new("bench.sentinel/audit", SigningKey::from_bytes(&[1; 32])).unwrap();
    let cp = Checkpoint::new("bench.sentinel/audit", t, th);
    let d = per_op(rounds, 2_000, |_| {
        black_box(cp.sign(&signer).unwrap());
    });
    println!("checkpoint sign: {:.2} µs", d.as_secs_f64() * 1e6);
    let note = cp.sign(&signer).unwrap();
    let v = signer.verifier();
    let d = per_op(rounds, 2_000, |_| {
        black_box(Checkpoint::verify_signed(&note, &v).unwrap());
    });
    println!("checkpoint verify: {:.2} µs", d.as_secs_f64() * 1e6);

    // A decision entry as the pipeline writes it, made canonical: by `canonical_json` (serde_json's
    // compact text when that is canonical, as here) and, the baseline, by the canonicaliser.
    let entry = AuditEntry {
        seq: 123_456,
        time: "2025-06-01T12:00:00.000Z".into(),
        tenant: Some("0190c0de-0000-7000-8000-000000000001".into()),
        actor: "agent:0190c0de-0000-7000-8000-000000000002".into(),
        kind: EntryKind::Decision,
        policy_revision: Some(format!("sha256:{:064x}", 7)),
        request_digest: Some(format!("sha256:{:064x}", 9)),
        details: serde_json::json!({
            "decision_id": "0190c0de-0000-7000-8000-000000000003",
            "outcome": "deny",
            "reasons": ["rule 17: \"curl | sh\" is not run by agents"],
            "risk": "critical",
            "agent": "sre-bot",
            "tool": "run_shell",
            "server": null,
            "session": "s-42",
            "kind": "tool_call",
            "findings": [{"detector": "shell", "rule": "pipe_to_shell", "path": "$.command"}],
            "obligations": {"redact": []},
            "quota": {"remaining": 41, "limit": 60},
            "approval_id": null,
            "provenance": null,
        }),
    };
    let decision: serde_json::Value = serde_json::from_slice(&entry.to_canonical_bytes()).unwrap();
    let ours = per_op(rounds, 20_000, |_| {
        black_box(sentinel_audit::canonical::canonical_json(&decision));
    });
    let crate_only = per_op(rounds, 20_000, |_| {
        black_box(serde_json_canonicalizer::to_vec(&decision).unwrap());
    });
    println!(
        "canonical JSON of a decision entry: {:.2} µs (the canonicaliser alone: {:.2} µs, ×{:.1})",
        ours.as_secs_f64() * 1e6,
        crate_only.as_secs_f64() * 1e6,
        crate_only.as_secs_f64() / ours.as_secs_f64()
    );
}
