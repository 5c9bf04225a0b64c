//! The MCP server an agent sees: one per downstream session, aggregating the tenant's upstreams
//! under namespaced names (`server__tool`). `tools/list` offers only what policy could allow;
//! `tools/call` goes through the pipeline; prompts pass through; `resources/read` is decided as
//! the tool `server__resources.read`.

use std::sync::{Arc, OnceLock};

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use sentinel_core::mcp::{namespaced_tool, split_tool};
use sentinel_core::{Action, ActionContext, ActionKind, Outcome, Principal, Role, Target};
use sentinel_pipeline::Caller;

use crate::session::Session;
use crate::McpGateway;

/// The highest protocol revision offered: 2025-11-25, the newest with sessions (the kill switch
/// and session taint need one). Older clients negotiate 2025-06-18, 2025-03-26 or 2024-11-05.
pub const MAX_PROTOCOL: ProtocolVersion = ProtocolVersion::V_2025_11_25;

pub struct SessionHandler {
    gateway: Arc<McpGateway>,
    session: OnceLock<Arc<Session>>,
}

impl Drop for SessionHandler {
    fn drop(&mut self) {
        if let Some(s) = self.session.get() {
            self.gateway.sessions.remove(&s.id);
        }
    }
}

impl SessionHandler {
    pub fn new(gateway: Arc<McpGateway>) -> SessionHandler {
        SessionHandler {
            gateway,
            session: OnceLock::new(),
        }
    }

    /// The session of this request: created on the first request that carries a session id,
    /// and bound to the key that opened it.
    async fn session(&self, ctx: &RequestContext<RoleServer>) -> Result<Arc<Session>, McpError> {
        let parts = ctx.extensions.get::<http::request::Parts>();
        let principal = parts
            .and_then(|p| p.extensions.get::<Principal>())
            .ok_or_else(|| McpError::invalid_request("an agent key is required", None))?;
        if let Some(s) = self.session.get() {
            if s.caller.key_id != principal.key_id {
                return Err(McpError::invalid_request(
                    "this session belongs to another key",
                    None,
                ));
            }
            if s.killed.is_cancelled() {
                return Err(McpError::invalid_request(
                    "a kill switch closed this session",
                    None,
                ));
            }
            return Ok(s.clone());
        }
        let (Role::Agent, Some(tenant_id), Some(agent_id)) =
            (principal.role, principal.tenant_id, principal.agent_id)
        else {
            return Err(McpError::invalid_request(
                "the MCP gateway is used with an agent key (role `agent`)",
                None,
            ));
        };
        let id = parts
            .and_then(|p| p.headers.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok())
            .map(String::from)
            .unwrap_or_else(|| sentinel_core::new_id().to_string());
        let agent = self
            .gateway
            .store
            .agent(tenant_id, &agent_id.to_string())
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?
            .ok_or_else(|| McpError::invalid_request("the key's agent is not registered", None))?;
        let caller = Caller {
            tenant_id,
            agent_id,
            key_id: principal.key_id,
        };
        let session = Arc::new(Session::new(id, caller, agent.name));
        let session = self.session.get_or_init(|| session).clone();
        self.gateway.sessions.insert(session.clone());
        Ok(session)
    }

    fn probe(&self, session: &Session, tool: String, server: &str) -> Action {
        Action {
            tenant: None,
            agent: None,
            session: Some(session.id.clone()),
            kind: ActionKind::ToolCall,
            target: Target {
                tool,
                server: Some(server.to_string()),
            },
            arguments: serde_json::json!({}),
            context: ActionContext {
                provenance: session.provenance(),
                ..Default::default()
            },
        }
    }
}

fn internal(e: impl std::fmt::Display) -> McpError {
    McpError::internal_error(e.to_string(), None)
}

/// What the gateway (and the stdio bridge in front of it) says about itself.
pub fn server_config() -> ServerConfig {
    let mut info = ServerConfig::new(
        ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_resources()
            .build(),
    )
    .with_instructions(
        "Sentinel MCP gateway: the tools of your organisation's MCP servers, named \
         server__tool. Every call is checked against policy; a refused or held call returns \
         an error result that says why.",
    );
    info.server_info = Implementation::new("sentinel", env!("CARGO_PKG_VERSION"));
    info.protocol_version = MAX_PROTOCOL;
    info
}

/// [`MAX_PROTOCOL`] and the older revisions.
pub fn protocol_versions() -> std::borrow::Cow<'static, [ProtocolVersion]> {
    std::borrow::Cow::Borrowed(ProtocolVersion::known_up_to(&MAX_PROTOCOL))
}

impl ServerHandler for SessionHandler {
    fn get_info(&self) -> ServerConfig {
        server_config()
    }

    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        protocol_versions()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let session = self.session(&ctx).await?;
        let gw = &self.gateway;
        let mut tools = Vec::new();
        for (upstream, live) in self.live_upstreams(&session).await? {
            for offered in live.tools.iter().filter(|t| t.pinned) {
                let name = namespaced_tool(&upstream.server.name, &offered.tool.name);
                let probe = self.probe(&session, name.clone(), &upstream.server.name);
                if gw.pipeline.could_allow(session.caller, &probe).await {
                    let mut tool = offered.tool.clone();
                    tool.name = name.into();
                    tools.push(tool);
                }
            }
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let session = self.session(&ctx).await?;
        Ok(self.gateway.call_tool(&session, request).await.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let session = self.session(&ctx).await?;
        let mut prompts = Vec::new();
        for (upstream, live) in self.live_upstreams(&session).await? {
            if let Ok(list) = live.peer.list_all_prompts().await {
                prompts.extend(list.into_iter().map(|mut p| {
                    p.name = namespaced_tool(&upstream.server.name, &p.name);
                    p
                }));
            }
        }
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let session = self.session(&ctx).await?;
        let name = request.name.clone();
        let (server, prompt) = split_tool(&name)
            .ok_or_else(|| McpError::invalid_params(format!("unknown prompt {name:?}"), None))?;
        let live = self.live(&session, server).await?;
        let mut forwarded = request;
        forwarded.name = prompt.to_string();
        live.peer.get_prompt_once(forwarded).await.map_err(internal)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let session = self.session(&ctx).await?;
        let mut resources = Vec::new();
        for (_, live) in self.live_upstreams(&session).await? {
            if let Ok(list) = live.peer.list_all_resources().await {
                resources.extend(list);
            }
        }
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let session = self.session(&ctx).await?;
        let gw = &self.gateway;
        // The upstream that lists the resource serves it.
        for (upstream, live) in self.live_upstreams(&session).await? {
            let listed = live
                .peer
                .list_all_resources()
                .await
                .map(|l| l.iter().any(|r| r.uri == request.uri))
                .unwrap_or(false);
            if !listed {
                continue;
            }
            let mut action = self.probe(
                &session,
                namespaced_tool(&upstream.server.name, "resources.read"),
                &upstream.server.name,
            );
            action.arguments = serde_json::json!({"uri": request.uri});
            let d = gw.pipeline.decide(session.caller, action).await;
            if d.outcome != Outcome::Allow {
                return Err(McpError::invalid_request(
                    format!(
                        "Sentinel did not allow reading {}: {} (decision {})",
                        request.uri,
                        d.reasons.join("; "),
                        d.decision_id
                    ),
                    None,
                ));
            }
            return live
                .peer
                .read_resource_once(request)
                .await
                .map_err(internal);
        }
        Err(McpError::resource_not_found(
            format!("no upstream offers {}", request.uri),
            None,
        ))
    }
}

impl SessionHandler {
    /// The session's tenant's upstreams that are up (one that is down offers nothing until it
    /// is back).
    async fn live_upstreams(
        &self,
        session: &Session,
    ) -> Result<Vec<(Arc<crate::upstream::Upstream>, Arc<crate::upstream::Live>)>, McpError> {
        let gw = &self.gateway;
        let mut out = Vec::new();
        for upstream in gw
            .upstreams(session.caller.tenant_id)
            .await
            .map_err(internal)?
        {
            if let Ok(live) = upstream.live(gw.config.connect_timeout()).await {
                out.push((upstream, live));
            }
        }
        Ok(out)
    }

    async fn live(
        &self,
        session: &Session,
        server: &str,
    ) -> Result<Arc<crate::upstream::Live>, McpError> {
        let upstream = self
            .gateway
            .upstream(session.caller.tenant_id, server)
            .await
            .ok_or_else(|| McpError::invalid_params(format!("unknown server {server:?}"), None))?;
        upstream
            .live(self.gateway.config.connect_timeout())
            .await
            .map_err(internal)
    }
}
