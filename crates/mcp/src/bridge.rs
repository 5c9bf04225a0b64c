//! `sentinel mcp stdio`: for MCP clients that can only launch a process (Claude Desktop's
//! `command` servers, say). It serves MCP on its stdin/stdout and forwards every request to
//! Sentinel's streamable-HTTP gateway with the agent's key, so the governance is the same as
//! for a client that connects over HTTP.

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;

use crate::http_client::{HttpClient, HttpOptions};
use rmcp::{ErrorData as McpError, Peer, RoleClient, RoleServer, ServerHandler, ServiceExt};

/// Serves MCP on stdin/stdout, forwarding to the gateway at `url` (e.g.
/// `http://127.0.0.1:8787/mcp`) with `key`, until stdin closes.
pub async fn run_stdio(url: &str, key: &str) -> anyhow::Result<()> {
    run(url, key, rmcp::transport::stdio()).await
}

/// Like [`run_stdio`], over any byte stream pair (what the tests use).
pub async fn run<R, W>(url: &str, key: &str, io: (R, W)) -> anyhow::Result<()>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(key.to_string());
    // The gateway answers in SSE, so headers come at once even for a call held for approval;
    // the limit only catches a gateway that stopped answering. TLS trusts the system's roots
    // (and SSL_CERT_FILE).
    let http = HttpClient::new(&HttpOptions {
        response_timeout: std::time::Duration::from_secs(300),
        ..HttpOptions::default()
    })
    .map_err(anyhow::Error::msg)?;
    let client_info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("sentinel-mcp-stdio", env!("CARGO_PKG_VERSION")),
    );
    let gateway = client_info
        .serve(StreamableHttpClientTransport::with_client(http, config))
        .await
        .map_err(|e| anyhow::anyhow!("could not open an MCP session at {url}: {e}"))?;
    let served = Bridge::to(gateway.peer().clone()).serve(io).await?;
    served.waiting().await?;
    Ok(())
}

/// An MCP server that forwards every request to one client session: the gateway's, for
/// `sentinel mcp stdio`; any MCP server's, for the benchmarks' bare proxy (the MCP hop's own
/// cost, with nothing governed).
#[derive(Clone)]
pub struct Bridge {
    gateway: Peer<RoleClient>,
}

impl Bridge {
    /// Forwards to the session `gateway` is a peer of.
    pub fn to(gateway: Peer<RoleClient>) -> Bridge {
        Bridge { gateway }
    }
}

fn relay(e: rmcp::ServiceError) -> McpError {
    match e {
        rmcp::ServiceError::McpError(e) => e,
        e => McpError::internal_error(format!("the Sentinel gateway failed: {e}"), None),
    }
}

impl ServerHandler for Bridge {
    fn get_info(&self) -> ServerConfig {
        crate::handler::server_config()
    }

    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        crate::handler::protocol_versions()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = self.gateway.list_all_tools().await.map_err(relay)?;
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        self.gateway.call_tool_once(request).await.map_err(relay)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let prompts = self.gateway.list_all_prompts().await.map_err(relay)?;
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        self.gateway.get_prompt_once(request).await.map_err(relay)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let resources = self.gateway.list_all_resources().await.map_err(relay)?;
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        self.gateway
            .read_resource_once(request)
            .await
            .map_err(relay)
    }
}
