//! Durable audit appends per second with group commit, and how far checkpoints trail.
//!
//! Many concurrent appenders (as concurrent decisions would be) each wait until their entry is
//! committed; the writer batches whatever is queued into one transaction. Runs on a temporary
//! SQLite file (WAL, synchronous=FULL: every commit is fsynced).
//!
//! `audit_append [--seconds S] [--tasks N] [--runs R]`; a baseline in the same run is one
//! appender at a time (no batching possible), so the ratio shows what group commit buys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_audit::note::NoteSigner;
use sentinel_bench::audit_sample::entry;
use sentinel_bench::flags::Flags;
use sentinel_bench::stats::median;
use sentinel_pipeline::AuditLog;

/// Appends from `tasks` concurrent appenders for `seconds`; returns (appends/s, checkpoint lag).
async fn run(tasks: u64, seconds: u64, journal: bool) -> anyhow::Result<(f64, Duration)> {
    let dir = tempfile::tempdir()?;
    let mut options = sentinel_store::StoreOptions::default();
    options.audit_journal = journal;
    let store = sentinel_store::open_with(
        &format!("sqlite://{}/bench.db", dir.path().display()),
        options,
    )
    .await?;
    let log = Arc::new(
        AuditLog::start(store.clone(), NoteSigner::generate("bench.local/audit")?)
            .await
            .map_err(anyhow::Error::msg)?,
    );
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (log, done) = (log.clone(), done.clone());
        handles.push(tokio::spawn(async move {
            let mut i = t << 32;
            while Instant::now() < deadline {
                log.append(entry(i)).await.expect("append");
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    for h in handles {
        h.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let appended = done.load(Ordering::Relaxed);
    // How long until a checkpoint covers everything appended.
    let lag_started = Instant::now();
    loop {
        if store
            .latest_checkpoint()
            .await?
            .is_some_and(|c| c.size >= appended)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((appended as f64 / elapsed, lag_started.elapsed()))
}

const USAGE: &str = "audit_append [--seconds S (5)] [--tasks N (64)] [--runs R (3)] [--audit-journal true|false (true)]
Durable audit appends per second with group commit, against one appender at a time.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let seconds: u64 = flags.get("seconds", 5)?;
    let tasks: u64 = flags.get("tasks", 64)?;
    let runs: u64 = flags.get("runs", 3)?;
    let journal: bool = flags.get("audit-journal", true)?;
    flags.finish()?;
    let mut grouped = Vec::new();
    let mut single = Vec::new();
    let mut lags = Vec::new();
    for _ in 0..runs {
        let (rate, lag) = run(tasks, seconds, journal).await?;
        grouped.push(rate);
        lags.push(lag.as_secs_f64() * 1000.0);
        single.push(run(1, seconds.min(3), journal).await?.0);
    }
    let (g, s) = (median(&grouped), median(&single));
    let how = if journal {
        "the audit journal"
    } else {
        "WAL, synchronous=FULL"
    };
    println!("durable audit appends, SQLite ({how}), median of {runs} runs of {seconds} s");
    println!("  {tasks} concurrent appenders (group commit): {g:>10.0} appends/s");
    println!(
        "  1 appender (baseline, one commit each):      {s:>10.0} appends/s   ratio x{:.1}",
        g / s
    );
    println!(
        "  checkpoint trailing the last append:         {:>10.0} ms",
        median(&lags)
    );
    println!(
        "SUMMARY audit_appends_per_s={g:.0} single_appender_per_s={s:.0} checkpoint_lag_ms={:.0}",
        median(&lags)
    );
    Ok(())
}
