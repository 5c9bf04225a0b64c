//! HTTP load on `POST /v1/check` against the real `sentinel serve` release binary on loopback,
//! with SQLite in a temp directory and the generated 100-rule policy active.
//!
//! In one run, alternating, so noise hits all alike:
//! - closed loop (max throughput): `--connections` keep-alive connections, each sending its next
//!   request as soon as the last answer arrives, for `--duration` seconds, against
//!   `GET /health` (no key, no pipeline: the HTTP baseline), `GET /v1/whoami` (authentication
//!   only) and `POST /v1/check` (authentication + pipeline + decision log);
//! - open loop: `/v1/check` at a fixed rate (default half the measured maximum), latency counted
//!   from each request's scheduled time when the connection was still busy with an earlier one,
//!   so a stalled server cannot hide its queue (coordinated omission).
//!
//! The load generator is this process, on the same 2 cores as the server; it uses a minimal
//! HTTP/1.1 client (prebuilt request bytes, `Content-Length` framing) on one thread to take as
//! little CPU from the server as it can. The server's CPU time per request is read from
//! `/proc/PID/stat`.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/sentinel-target cargo build --release -p sentinel-cli -p sentinel-bench
//! /var/tmp/sentinel-target/release/check_load --duration 5 --runs 3 --connections 32
//! ```

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use sentinel_bench::flags::Flags;
use sentinel_bench::loadgen::{closed_loop, open_loop, request, RunResult};
use sentinel_bench::policy100;
use sentinel_bench::server::{set_up, wait_ready, Server};
use sentinel_bench::stats::{median, Percentiles};

struct Args {
    sentinel: PathBuf,
    duration: Duration,
    runs: usize,
    connections: usize,
    /// Open-loop rate; 0 means half the measured closed-loop maximum.
    rate: f64,
}

const USAGE: &str = "check_load [--duration SECONDS (5)] [--runs R (3)] [--connections N (32)]
           [--rate PER_SECOND (0: half the measured maximum)] [--sentinel PATH (beside this program)]
HTTP load on POST /v1/check against `sentinel serve` (SQLite, 100-rule policy): closed loop, then open loop.";

impl Args {
    fn parse() -> anyhow::Result<Args> {
        let flags = Flags::from_env(USAGE)?;
        let args = Args {
            sentinel: flags.program("sentinel", "sentinel")?,
            duration: Duration::from_secs_f64(flags.get("duration", 5.0f64)?),
            runs: flags.get("runs", 3usize)?,
            connections: flags.get("connections", 32usize)?,
            rate: flags.get("rate", 0.0f64)?,
        };
        flags.finish()?;
        Ok(args)
    }
}

/// One endpoint under load, as the raw bytes of its request.
struct Endpoint {
    name: &'static str,
    request: Rc<Vec<u8>>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    sentinel_bench::loadgen::on_one_thread(run(args))?
}

async fn run(args: Args) -> anyhow::Result<()> {
    let server = Server::start(&args.sentinel)?;
    wait_ready(server.addr).await?;
    let key = set_up(&server).await?;
    let endpoints = [
        Endpoint {
            name: "GET /health",
            request: Rc::new(request("GET", "/health", None, None)),
        },
        Endpoint {
            name: "GET /v1/whoami (auth+2 reads)",
            request: Rc::new(request("GET", "/v1/whoami", Some(&key), None)),
        },
        Endpoint {
            name: "POST /v1/check",
            request: Rc::new(request(
                "POST",
                "/v1/check",
                Some(&key),
                Some(&policy100::typical_action()),
            )),
        },
    ];
    println!(
        "HTTP load on {} (sentinel serve, SQLite, 100-rule policy): {} connections, {:?} per run, \
         median of {} runs; generator on the same {} cores",
        server.addr,
        args.connections,
        args.duration,
        args.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // Warm-up: engines cloned per worker thread, caches filled.
    closed_loop(
        &server.target(),
        &endpoints[2].request,
        args.connections,
        Duration::from_secs(1),
    )
    .await?;

    let mut closed: Vec<Vec<RunResult>> = endpoints.iter().map(|_| Vec::new()).collect();
    for _ in 0..args.runs {
        for (i, e) in endpoints.iter().enumerate() {
            closed[i].push(
                closed_loop(
                    &server.target(),
                    &e.request,
                    args.connections,
                    args.duration,
                )
                .await?,
            );
        }
    }
    let mut rates = Vec::new();
    for (e, runs) in endpoints.iter().zip(&closed) {
        rates.push(report(&format!("closed loop {}", e.name), runs));
    }

    let rate = if args.rate > 0.0 {
        args.rate
    } else {
        rates[2] / 2.0
    };
    let mut open = Vec::new();
    for _ in 0..args.runs {
        open.push(
            open_loop(
                &server.target(),
                &endpoints[2].request,
                args.connections,
                args.duration,
                rate,
            )
            .await?,
        );
    }
    report(&format!("open loop POST /v1/check at {rate:.0}/s"), &open);

    let check = Percentiles::median_of(&closed[2].iter().map(|r| r.latency).collect::<Vec<_>>());
    let open_p = Percentiles::median_of(&open.iter().map(|r| r.latency).collect::<Vec<_>>());
    let cpu = |runs: &[RunResult]| {
        median(
            &runs
                .iter()
                .map(|r| r.server_cpu_us_per_request)
                .collect::<Vec<_>>(),
        )
    };
    println!();
    println!(
        "SUMMARY check_per_s={:.0} health_per_s={:.0} whoami_per_s={:.0} check_vs_health={:.2} \
         check_closed_p50_ms={:.2} check_closed_p99_ms={:.2} open_rate={:.0} open_p50_ms={:.2} \
         open_p99_ms={:.2} server_cpu_us_per_check={:.0} server_cpu_us_per_health={:.0}",
        rates[2],
        rates[0],
        rates[1],
        rates[2] / rates[0].max(1.0),
        check.p50 as f64 / 1e6,
        check.p99 as f64 / 1e6,
        rate,
        open_p.p50 as f64 / 1e6,
        open_p.p99 as f64 / 1e6,
        cpu(&closed[2]),
        cpu(&closed[0]),
    );
    Ok(())
}

/// Prints the medians of `runs`; returns the median throughput.
fn report(what: &str, runs: &[RunResult]) -> f64 {
    let rate = median(&runs.iter().map(|r| r.per_second).collect::<Vec<_>>());
    let p = Percentiles::median_of(&runs.iter().map(|r| r.latency).collect::<Vec<_>>());
    let cpu = median(
        &runs
            .iter()
            .map(|r| r.server_cpu_us_per_request)
            .collect::<Vec<_>>(),
    );
    let errors: usize = runs.iter().map(|r| r.errors).sum();
    let all: Vec<String> = runs
        .iter()
        .map(|r| format!("{:.0}", r.per_second))
        .collect();
    println!(
        "{what:<40} {rate:>8.0} /s  {p}  server CPU {cpu:>5.0} µs/req  errors {errors}  (runs: {})",
        all.join(", ")
    );
    rate
}
