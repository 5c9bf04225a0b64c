//! Throughput of `Guard::scan` in MB/s on one core, per corpus file.
//!
//! Usage: `cargo bench --bench throughput -- FILE...` (see `bench/run.sh`). Each file is scanned
//! whole (in 64 KiB chunks, as a gateway sees request bodies) in `ROUNDS` rounds; the median is
//! reported, both by wall clock and by the thread's on-CPU time (`/proc/thread-self/schedstat`),
//! which is the per-core rate even when other processes share the machine.
//!
//! That on-CPU counter only advances at scheduler ticks (a few milliseconds), so a round repeats
//! the file until it has run for at least `MIN_ROUND`: one pass over a megabyte takes less than
//! a tick, and timing single passes made the per-core rate swing by a factor of two.

use std::time::{Duration, Instant};

use sentinel_guard::{Direction, Guard, ScanOptions};

const ROUNDS: usize = 7;
const MIN_ROUND: Duration = Duration::from_millis(300);
const CHUNK: usize = 64 * 1024;

fn chunks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut s = 0;
    while s < text.len() {
        let mut e = (s + CHUNK).min(text.len());
        while !text.is_char_boundary(e) {
            e += 1;
        }
        out.push(&text[s..e]);
        s = e;
    }
    out
}

/// Nanoseconds this thread has spent on a CPU (Linux), if available.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let guard = Guard::builtin();
    let opts = ScanOptions::new(Direction::Input);
    for f in files {
        let text = std::fs::read_to_string(&f).expect("corpus file");
        let parts = chunks(&text);
        let mut rates = Vec::new();
        let mut cpu_rates = Vec::new();
        let mut findings = 0;
        for _ in 0..ROUNDS {
            let c = cpu_ns();
            let t = Instant::now();
            let mut bytes = 0;
            while bytes == 0 || t.elapsed() < MIN_ROUND {
                findings = parts
                    .iter()
                    .map(|p| guard.scan(p, &opts).findings.len())
                    .sum::<usize>();
                bytes += text.len();
            }
            rates.push(bytes as f64 / t.elapsed().as_secs_f64() / 1e6);
            if let (Some(a), Some(b)) = (c, cpu_ns()) {
                cpu_rates.push(bytes as f64 / ((b - a) as f64 / 1e9) / 1e6);
            }
        }
        rates.sort_by(f64::total_cmp);
        cpu_rates.sort_by(f64::total_cmp);
        let cpu = cpu_rates
            .get(cpu_rates.len() / 2)
            .map_or("n/a".to_string(), |r| format!("{r:.1} MB/s"));
        println!(
            "{f}\t{:.2} MB\twall median {:.1} MB/s (min {:.1}, max {:.1})\tper-core (on-CPU time) median {cpu}\tfindings {findings}",
            text.len() as f64 / 1e6,
            rates[ROUNDS / 2],
            rates[0],
            rates[ROUNDS - 1]
        );
    }
}
