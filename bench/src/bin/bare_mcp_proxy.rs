//! The floor of any MCP gateway built like Sentinel's: an MCP server on the same stacks (rmcp's
//! streamable-HTTP server under axum, rmcp's client over the gateway's own HTTP client, a
//! multi-threaded Tokio runtime, mimalloc) that passes every request to one upstream and its
//! answers back ([`sentinel_mcp::bridge::Bridge`], as `sentinel mcp stdio` does), and does
//! nothing else — no key, no policy, no scan, no audit.
//!
//! `mcp_latency` measures it beside Sentinel in the same run: what it adds over calling the
//! upstream directly is the cost of the extra MCP hop itself on this machine, and Sentinel's
//! latency above it is what governance costs.
//!
//! ```sh
//! bare_mcp_proxy --listen 127.0.0.1:9300 --upstream http://127.0.0.1:9301/mcp
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use rmcp::model::ClientConfig;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use sentinel_bench::flags::Flags;
use sentinel_mcp::bridge::Bridge;
use sentinel_mcp::http_client::{HttpClient, HttpOptions};

const USAGE: &str = "bare_mcp_proxy [--listen ADDR (127.0.0.1:9300)] --upstream URL
An MCP proxy on Sentinel's stacks that governs nothing: the MCP hop's own cost.";

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let listen: SocketAddr = flags.get("listen", "127.0.0.1:9300".parse()?)?;
    let upstream = flags
        .text("upstream")
        .ok_or_else(|| anyhow::anyhow!("--upstream URL is required\n{USAGE}"))?
        .to_string();
    flags.finish()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(listen, upstream))
}

async fn serve(listen: SocketAddr, upstream: String) -> anyhow::Result<()> {
    let http = HttpClient::new(&HttpOptions::default()).map_err(anyhow::Error::msg)?;
    let client = ClientConfig::default()
        .serve(StreamableHttpClientTransport::with_client(
            http,
            StreamableHttpClientTransportConfig::with_uri(upstream),
        ))
        .await?;
    // Every downstream session forwards to the one upstream session, as the gateway shares one
    // upstream connection between an upstream's callers.
    let forward = Bridge::to(client.peer().clone());
    let service = StreamableHttpService::new(
        move || Ok(forward.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let app = axum::Router::new().route_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    // No Nagle, as Sentinel's listener.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    drop(client);
    Ok(())
}
