//! How long a deferred audit append (the LLM gateway's kind: its provider call starts once the
//! entry is sequenced) waits for its receipt while other appenders keep the log's writes busy,
//! and how long until it is durable. Runs on a temporary SQLite file with the audit journal.
//!
//! ```sh
//! audit_receipt --seconds 5 --strict-appenders 2
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_audit::note::NoteSigner;
use sentinel_bench::audit_sample::entry;
use sentinel_bench::flags::Flags;
use sentinel_bench::stats::Percentiles;
use sentinel_pipeline::{durability, AuditLog};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "audit_receipt [--seconds S (5)] [--strict-appenders N (2)] [--every-ms MS (2)]
A deferred audit append every MS ms while N appenders wait for durability back to back: its wait
for a receipt (sequencing) and for durability.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let seconds: u64 = flags.get("seconds", 5)?;
    let strict: u64 = flags.get("strict-appenders", 2)?;
    let every = Duration::from_millis(flags.get("every-ms", 2)?);
    flags.finish()?;
    let dir = tempfile::tempdir()?;
    let store =
        sentinel_store::open(&format!("sqlite://{}/bench.db", dir.path().display())).await?;
    let log = Arc::new(
        AuditLog::start(store, NoteSigner::generate("bench.local/audit")?)
            .await
            .map_err(anyhow::Error::msg)?,
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    for t in 0..strict {
        let log = log.clone();
        tokio::spawn(async move {
            let mut i = (t + 1) << 32;
            while Instant::now() < deadline {
                let _ = log.append(entry(i)).await;
                i += 1;
            }
        });
    }
    let (mut to_receipt, mut to_durable) = (Vec::new(), Vec::new());
    let mut i = 0u64;
    while Instant::now() < deadline {
        tokio::time::sleep(every).await;
        let log = log.clone();
        let (receipt, durable) = durability::deferring(async move {
            let asked = Instant::now();
            log.append(entry(i)).await.map_err(anyhow::Error::msg)?;
            let receipt = asked.elapsed();
            durability::settle().await.map_err(anyhow::Error::msg)?;
            anyhow::Ok((receipt, asked.elapsed()))
        })
        .await?;
        to_receipt.push(receipt.as_micros() as u64);
        to_durable.push(durable.as_micros() as u64);
        i += 1;
    }
    let n = to_receipt.len();
    let (r, d) = (
        Percentiles::of(&mut to_receipt),
        Percentiles::of(&mut to_durable),
    );
    println!(
        "deferred audit appends beside {strict} strict appenders, {n} samples over {seconds} s:"
    );
    println!(
        "  to receipt (sequenced): p50 {:>6} µs  p99 {:>6} µs",
        r.p50, r.p99
    );
    println!(
        "  to durable:             p50 {:>6} µs  p99 {:>6} µs",
        d.p50, d.p99
    );
    println!(
        "SUMMARY receipt_p50_us={} receipt_p99_us={} durable_p50_us={} durable_p99_us={}",
        r.p50, r.p99, d.p50, d.p99
    );
    Ok(())
}
