//! Memory of `sentinel serve`: resident set size (RSS) idle, then under steady `/v1/check` load
//! for a long time (DESIGN.md: ≤ 50 MB idle, flat under a 30-minute soak), then idle again.
//!
//! The server is the release binary on loopback with SQLite in a temp directory and the
//! 100-rule policy active (the same set-up as `check_load`). RSS is read from
//! `/proc/PID/status` every `--sample-seconds`. "Flat" is judged on the second half of the soak
//! (the first half includes warm-up: per-thread engines, caches, SQLite's page cache, the
//! allocator's pools): the least-squares slope of RSS over time, in MB per 10 minutes, and the
//! growth from the midpoint to the end.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/sentinel-target cargo build --release -p sentinel-cli -p sentinel-bench
//! /var/tmp/sentinel-target/release/memory_soak --minutes 30 --rate 500
//! ```

use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sentinel_bench::flags::Flags;
use sentinel_bench::loadgen::{open_loop, request};
use sentinel_bench::policy100;
use sentinel_bench::server::{set_up, wait_ready, Server};
use sentinel_bench::stats::rss_mb;

struct Args {
    sentinel: PathBuf,
    minutes: f64,
    /// Steady load, requests per second (open loop).
    rate: f64,
    connections: usize,
    sample: Duration,
    idle: Duration,
}

const USAGE: &str =
    "memory_soak [--minutes M (30)] [--rate PER_SECOND (500)] [--connections N (16)]
            [--sample-seconds S (10)] [--idle-seconds S (10)] [--sentinel PATH]
RSS of `sentinel serve` idle, under steady /v1/check load, and idle again.";

impl Args {
    fn parse() -> anyhow::Result<Args> {
        let flags = Flags::from_env(USAGE)?;
        let positive = |name: &str, default: f64| -> anyhow::Result<f64> {
            let v = flags.get(name, default)?;
            anyhow::ensure!(
                v.is_finite() && v > 0.0,
                "--{name} takes a positive number, not {v}"
            );
            Ok(v)
        };
        let connections = flags.get("connections", 16usize)?;
        anyhow::ensure!(connections > 0, "--connections takes at least 1");
        let args = Args {
            sentinel: flags.program("sentinel", "sentinel")?,
            minutes: positive("minutes", 30.0)?,
            rate: positive("rate", 500.0)?,
            connections,
            sample: Duration::from_secs_f64(positive("sample-seconds", 10.0)?),
            idle: Duration::from_secs_f64(positive("idle-seconds", 10.0)?),
        };
        flags.finish()?;
        Ok(args)
    }
}

/// Least-squares slope of `(seconds, MB)` points, in MB per 10 minutes.
fn slope_per_10_min(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx * 600.0
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    sentinel_bench::loadgen::on_one_thread(run(args))?
}

async fn run(args: Args) -> anyhow::Result<()> {
    let server = Server::start(&args.sentinel)?;
    wait_ready(server.addr).await?;
    let pid = server.target().pid.context("our own server has a pid")?;
    tokio::time::sleep(args.idle).await;
    let idle_before = rss_mb(pid)?;
    let key = set_up(&server).await?;
    tokio::time::sleep(args.idle).await;
    let idle_set_up = rss_mb(pid)?;
    println!(
        "sentinel serve (SQLite, 100-rule policy) on {}: RSS idle {idle_before:.1} MB after start, \
         {idle_set_up:.1} MB with tenant, agent, tool and policy; now {:.0} min of POST /v1/check \
         at {:.0}/s over {} connections, sampled every {:?}",
        server.addr, args.minutes, args.rate, args.connections, args.sample
    );

    let check = Rc::new(request(
        "POST",
        "/v1/check",
        Some(&key),
        Some(&policy100::typical_action()),
    ));
    let total = Duration::from_secs_f64(args.minutes * 60.0);
    let started = Instant::now();
    let (mut points, mut errors, mut requests) = (Vec::new(), 0usize, 0f64);
    while started.elapsed() < total {
        let chunk = args.sample.min(total - started.elapsed());
        let run = open_loop(&server.target(), &check, args.connections, chunk, args.rate).await?;
        errors += run.errors;
        requests += run.per_second * chunk.as_secs_f64();
        let at = started.elapsed().as_secs_f64();
        let rss = rss_mb(pid)?;
        points.push((at, rss));
        println!(
            "{:>7.0} s  RSS {rss:>6.1} MB  {:>6.0} checks/s  p99 {:>6.2} ms  errors {}",
            at,
            run.per_second,
            run.latency.p99 as f64 / 1e6,
            run.errors
        );
    }
    tokio::time::sleep(args.idle).await;
    let idle_after = rss_mb(pid)?;

    let second_half: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0 >= total.as_secs_f64() / 2.0)
        .collect();
    let max = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let (mid, end) = (
        second_half.first().map_or(0.0, |p| p.1),
        points.last().map_or(0.0, |p| p.1),
    );
    println!();
    println!(
        "SUMMARY rss_idle_mb={idle_before:.1} rss_idle_set_up_mb={idle_set_up:.1} rss_max_mb={max:.1} \
         rss_mid_mb={mid:.1} rss_end_mb={end:.1} second_half_slope_mb_per_10min={:.2} \
         rss_idle_after_mb={idle_after:.1} checks={requests:.0} errors={errors}",
        slope_per_10_min(&second_half)
    );
    Ok(())
}
