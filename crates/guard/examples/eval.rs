//! Precision and recall per detector on the labelled sets built by `bench/eval/fetch_and_build.sh`.
//!
//! A sample counts as flagged when the detector reports any finding with score >= 0.5.
//! Usage: `cargo run --release --example eval -- bench/corpora`

use std::collections::BTreeMap;

use sentinel_guard::{Detector, Direction, Guard, ScanOptions};

const THRESHOLD: f32 = 0.5;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench/corpora".into());
    let verbose = std::env::args().any(|a| a == "--verbose");
    let guard = Guard::builtin();
    println!("| detector | samples | positives | TP | FP | FN | precision | recall |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, d) in [
        ("secrets", Detector::Secrets),
        ("pii", Detector::Pii),
        ("injection", Detector::Injection),
        ("command", Detector::Command),
    ] {
        let path = format!("{dir}/eval_{name}.jsonl");
        let Ok(data) = std::fs::read_to_string(&path) else {
            eprintln!("missing {path}");
            continue;
        };
        let opts = ScanOptions::new(Direction::Output).with_detectors(vec![d]);
        let (mut tp, mut fp, mut fnn, mut n, mut pos) = (0, 0, 0, 0, 0);
        let mut by_source: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for line in data.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("jsonl");
            let text = v["text"].as_str().unwrap_or("");
            let label = v["label"].as_bool().unwrap_or(false);
            let source = v["source"].as_str().unwrap_or("?").to_string();
            let flagged = guard.scan(text, &opts).max_score(d) >= THRESHOLD;
            n += 1;
            pos += label as usize;
            let e = by_source.entry(source.clone()).or_default();
            e.0 += 1;
            match (label, flagged) {
                (true, true) => {
                    tp += 1;
                    e.1 += 1
                }
                (false, true) => {
                    fp += 1;
                    e.1 += 1;
                    if verbose {
                        let r = guard.scan(text, &opts);
                        let rules: Vec<_> = r.findings.iter().map(|f| f.rule.as_str()).collect();
                        eprintln!(
                            "FP {name} [{source}] {rules:?}: {:.120}",
                            text.replace('\n', " ")
                        );
                    }
                }
                (true, false) => {
                    fnn += 1;
                    if verbose {
                        eprintln!("FN {name} [{source}]: {:.160}", text.replace('\n', " "));
                    }
                }
                (false, false) => {}
            }
        }
        let p = tp as f64 / (tp + fp).max(1) as f64;
        let r = tp as f64 / (tp + fnn).max(1) as f64;
        println!("| {name} | {n} | {pos} | {tp} | {fp} | {fnn} | {p:.3} | {r:.3} |");
        for (s, (count, flagged)) in by_source {
            eprintln!("    {name}/{s}: {flagged}/{count} flagged");
        }
    }
}
