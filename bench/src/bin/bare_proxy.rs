//! The floor of any HTTP gateway built like Sentinel's: a reverse proxy on the same stacks
//! (axum's server, reqwest's pooled client, a multi-threaded Tokio runtime, mimalloc) that
//! passes `POST /v1/chat/completions` to the provider and its answer back, and does nothing
//! else — no key, no policy, no scan, no audit, no usage.
//!
//! `llm_load` measures it beside Sentinel in the same run: what it adds over calling the
//! provider directly is the cost of the extra HTTP hop itself on this machine, and Sentinel's
//! latency above it is what governance costs.
//!
//! ```sh
//! bare_proxy --listen 127.0.0.1:9200 --upstream http://127.0.0.1:9100
//! ```

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sentinel_bench::flags::Flags;

const USAGE: &str =
    "bare_proxy [--listen ADDR (127.0.0.1:9200)] [--upstream URL (http://127.0.0.1:9100)]
           [--threads N (0: Tokio's multi-threaded runtime, as Sentinel; 1: one thread)]
A reverse proxy on Sentinel's HTTP stacks that governs nothing: the HTTP hop's own cost.";

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone)]
struct Upstream {
    http: reqwest::Client,
    url: String,
}

fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let listen: SocketAddr = flags.get("listen", "127.0.0.1:9200".parse()?)?;
    let upstream: String = flags.get("upstream", "http://127.0.0.1:9100".to_string())?;
    let threads: usize = flags.get("threads", 0)?;
    flags.finish()?;
    // The same client settings as the gateway's (crates/llm/src/gateway.rs).
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()?;
    let state = Upstream {
        http,
        url: format!("{upstream}/v1/chat/completions"),
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(forward))
        .route("/health", axum::routing::get(|| async { "ok" }))
        .with_state(state);
    let runtime = match threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        0 => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}

async fn forward(State(up): State<Upstream>, headers: HeaderMap, body: Bytes) -> Response {
    let mut req = up
        .http
        .post(&up.url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        req = req.header(header::AUTHORIZATION, auth);
    }
    let answer = async {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        Ok::<_, reqwest::Error>((status, bytes))
    };
    match answer.await {
        Ok((status, bytes)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            [(header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
