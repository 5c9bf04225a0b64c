//! Prometheus metrics: request counts by route and status, latency histograms, and whatever the
//! rest of Sentinel records through the `metrics` facade. Rendered at `GET /metrics`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets in seconds, from 50 µs (an in-memory decision) to 10 s (a slow upstream).
const BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];

/// How often histogram samples are folded into their buckets (see [`recorder`]).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process-wide recorder, installed on first use (a process has exactly one).
///
/// `install_recorder` leaves upkeep to its caller: until it runs, every histogram sample (two
/// per `/v1/check`) is kept raw in memory, so a server that nobody scrapes grows without bound.
/// A plain thread does it, so that it runs whatever runtime (or none) installed the recorder.
pub fn recorder() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("buckets are not empty")
            .install_recorder()
            .expect("no other metrics recorder is installed");
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            })
            .expect("spawning the metrics upkeep thread");
        handle
    })
}

/// Middleware counting each request by route template (never the raw path, which would let
/// callers create unbounded label values), method and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("sentinel_http_requests_total", &labels).increment(1);
    metrics::histogram!("sentinel_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        recorder().render(),
    )
        .into_response()
}
