//! The MCP gateway's upstreams: a tenant's MCP servers (stdio commands or streamable-HTTP
//! URLs), their live state, and the pinned definitions of their tools — including the
//! operator's approval of a changed definition. The gateway endpoint itself is [`mount`]ed at
//! `/mcp`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_audit::entry::EntryKind;
use sentinel_core::*;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, Created};
use crate::auth::{Manage, Read, TenantAccess};
use crate::extract::{ValidJson, ValidPath};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_server, list_servers))
        .routes(routes!(get_server, update_server, delete_server))
        .routes(routes!(list_pins))
        .routes(routes!(approve_definition))
}

/// Where MCP clients connect: streamable HTTP, authenticated by the agent's key.
pub const MCP_PATH: &str = "/mcp";

/// Adds the gateway's endpoint to the authenticated routes: the authentication middleware puts
/// the caller in the request, and this hands it to the gateway as a [`Principal`].
pub fn mount(router: axum::Router<AppState>, state: &AppState) -> axum::Router<AppState> {
    let service = state.mcp.http_service();
    let service = tower::ServiceBuilder::new()
        .map_request(|mut req: axum::extract::Request| {
            if let Some(crate::auth::Caller(p)) = req.extensions().get().cloned() {
                req.extensions_mut().insert::<Principal>(p);
            }
            req
        })
        .service(service);
    router.route_service(MCP_PATH, service)
}

/// An upstream with its state on this node.
#[derive(Debug, Serialize, ToSchema)]
pub struct McpServerView {
    #[serde(flatten)]
    pub server: McpServer,
    /// `up`, `starting`, `down` or `stopped` (disabled, or not used since the node started).
    pub state: String,
    /// Why it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The tools it offers now (upstream names), when up.
    pub tools: Vec<String>,
    /// Risks in how it is registered (e.g. plain `http://` to another host).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

async fn view(state: &AppState, server: McpServer, caller: &Principal) -> McpServerView {
    use sentinel_mcp::upstream::Link;
    let (mut st, mut error, mut tools) = ("stopped".to_string(), None, vec![]);
    if server.enabled {
        if let Some(u) = state.mcp.upstream(server.tenant_id, &server.name).await {
            match u.link() {
                Link::Starting => st = "starting".into(),
                Link::Up(live) => {
                    st = "up".into();
                    tools = live.tools.iter().map(|t| t.tool.name.to_string()).collect();
                }
                Link::Down(e) => {
                    st = "down".into();
                    error = Some(e);
                }
            }
        }
    }
    let mut warnings = Vec::new();
    if let McpTransport::Http { url, .. } = &server.transport {
        if sentinel_mcp::http_client::is_plaintext_remote(url) {
            warnings.push(
                "plain http:// to another host: requests and headers (credentials included) \
                 cross the network unencrypted; use https://"
                    .to_string(),
            );
        }
    }
    McpServerView {
        server: as_seen_by(server, caller),
        state: st,
        error,
        tools,
        warnings,
    }
}

/// Those who cannot manage the tenant (auditors) see the names of env variables and headers,
/// not their values: a value should be a `${secret:…}` template, but may be a literal.
fn as_seen_by(mut server: McpServer, caller: &Principal) -> McpServer {
    if !caller.may(server.tenant_id, Permission::Manage) {
        match &mut server.transport {
            McpTransport::Stdio { env, .. } => env.values_mut().for_each(|v| *v = "…".into()),
            McpTransport::Http { headers, .. } => {
                headers.values_mut().for_each(|v| *v = "…".into())
            }
        }
    }
    server
}

/// What the record's own validation cannot see: that a private CA's certificates parse.
fn check_tls(transport: &McpTransport) -> ApiResult<()> {
    if let McpTransport::Http {
        ca_cert_pem: Some(pem),
        ..
    } = transport
    {
        sentinel_mcp::http_client::check_ca_pem(pem).map_err(|message| {
            ApiError::from(sentinel_core::validate::FieldError {
                field: "transport.ca_cert_pem".into(),
                message,
            })
        })?;
    }
    Ok(())
}

async fn find(state: &AppState, tenant: uuid::Uuid, id_or_name: &str) -> ApiResult<McpServer> {
    state
        .store
        .mcp_servers(tenant)
        .await?
        .into_iter()
        .find(|s| s.id.to_string() == id_or_name || s.name == id_or_name)
        .ok_or_else(|| ApiError::not_found(format!("MCP server {id_or_name:?}")))
}

async fn record(
    state: &AppState,
    access: &TenantAccess<Manage>,
    details: serde_json::Value,
) -> ApiResult<()> {
    state
        .audit_event(
            Some(access.tenant.id),
            &access.caller,
            EntryKind::Configuration,
            details,
        )
        .await
}

/// Register an upstream MCP server. Its tools are discovered when an agent first uses the
/// gateway, registered in the inventory as `server__tool` (risk `critical` until assessed) and
/// pinned.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/mcp/servers", tag = "mcp", request_body = NewMcpServer,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 201, body = McpServer)))]
async fn create_server(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidJson(new): ValidJson<NewMcpServer>,
) -> ApiResult<Created<McpServer>> {
    check_tls(&new.transport)?;
    let now = ids::now();
    let server = McpServer {
        id: new_id(),
        tenant_id: access.tenant.id,
        name: new.name,
        transport: new.transport,
        enabled: new.enabled,
        created_at: now,
        updated_at: now,
    };
    record(
        &state,
        &access,
        serde_json::json!({"action": "mcp_server.create", "server": server.name}),
    )
    .await?;
    state
        .store
        .insert_mcp_server(&server)
        .await
        .map_err(|e| ApiError::from(e).with_field("name"))?;
    state.mcp.reload(access.tenant.id).await?;
    tracing::info!(server = %server.name, by = %access.caller.key_id, "MCP server registered");
    Ok(created(server))
}

/// A tenant's upstream MCP servers with their state on this node.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/mcp/servers", tag = "mcp",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Vec<McpServerView>)))]
async fn list_servers(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
) -> ApiResult<Json<Vec<McpServerView>>> {
    let mut out = Vec::new();
    for s in state.store.mcp_servers(access.tenant.id).await? {
        out.push(view(&state, s, &access.caller).await);
    }
    Ok(Json(out))
}

/// One upstream, by id or name.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/mcp/servers/{server}", tag = "mcp",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("server" = String, Path, description = "Server id or name")),
    security(("api_key" = [])), responses((status = 200, body = McpServerView)))]
async fn get_server(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<McpServerView>> {
    let server = find(&state, access.tenant.id, &path.1).await?;
    Ok(Json(view(&state, server, &access.caller).await))
}

/// Change an upstream's transport or disable it; a changed upstream is restarted.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/mcp/servers/{server}", tag = "mcp",
    request_body = McpServerPatch,
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("server" = String, Path, description = "Server id or name")),
    security(("api_key" = [])), responses((status = 200, body = McpServer)))]
async fn update_server(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
    ValidJson(patch): ValidJson<McpServerPatch>,
) -> ApiResult<Json<McpServer>> {
    if let Some(t) = &patch.transport {
        check_tls(t)?;
    }
    let mut server = find(&state, access.tenant.id, &path.1).await?;
    server.transport = patch.transport.unwrap_or(server.transport);
    server.enabled = patch.enabled.unwrap_or(server.enabled);
    server.updated_at = ids::now();
    record(&state, &access, serde_json::json!({"action": "mcp_server.update", "server": server.name, "enabled": server.enabled})).await?;
    if !state.store.update_mcp_server(&server).await? {
        return Err(ApiError::not_found(format!("MCP server {:?}", server.name)));
    }
    state.mcp.reload(access.tenant.id).await?;
    Ok(Json(server))
}

/// Remove an upstream: it is stopped and its tool pins are forgotten (its tools stay in the
/// inventory, where policy and history refer to them).
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/mcp/servers/{server}", tag = "mcp",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("server" = String, Path, description = "Server id or name")),
    security(("api_key" = [])), responses((status = 204)))]
async fn delete_server(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let server = find(&state, access.tenant.id, &path.1).await?;
    record(
        &state,
        &access,
        serde_json::json!({"action": "mcp_server.delete", "server": server.name}),
    )
    .await?;
    state
        .store
        .delete_mcp_server(access.tenant.id, server.id)
        .await?;
    state
        .store
        .delete_tool_pins(access.tenant.id, &server.name)
        .await?;
    state.mcp.reload(access.tenant.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The pinned tool definitions of an upstream; `changed` ones are blocked and show the
/// definition on offer beside the approved one.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/mcp/servers/{server}/tools", tag = "mcp",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("server" = String, Path, description = "Server id or name")),
    security(("api_key" = [])), responses((status = 200, body = Vec<ToolPin>)))]
async fn list_pins(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<Vec<ToolPin>>> {
    let server = find(&state, access.tenant.id, &path.1).await?;
    Ok(Json(
        state
            .store
            .tool_pins(access.tenant.id, &server.name)
            .await?,
    ))
}

/// Approve the definition an upstream now offers for a tool whose definition changed, which
/// unblocks it. Recorded in the audit log with both hashes.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/mcp/servers/{server}/tools/{tool}/approve-definition", tag = "mcp",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("server" = String, Path, description = "Server id or name"),
           ("tool" = String, Path, description = "The tool's upstream name")),
    security(("api_key" = [])), responses((status = 200, body = ToolPin)))]
async fn approve_definition(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String, String)>,
) -> ApiResult<Json<ToolPin>> {
    let server = find(&state, access.tenant.id, &path.1).await?;
    let pin = state
        .store
        .tool_pins(access.tenant.id, &server.name)
        .await?
        .into_iter()
        .find(|p| p.tool == path.2)
        .ok_or_else(|| ApiError::not_found(format!("tool {:?} of {:?}", path.2, server.name)))?;
    let approved = sentinel_mcp::pin::approve(&pin, &format!("key:{}", access.caller.key_id))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "nothing_to_approve",
                "the tool's definition has not changed since it was approved",
            )
        })?;
    record(
        &state,
        &access,
        serde_json::json!({
            "action": "mcp_tool.approve_definition", "server": server.name, "tool": pin.tool,
            "previous_hash": pin.hash, "hash": approved.hash,
        }),
    )
    .await?;
    state.store.put_tool_pin(&approved).await?;
    state.mcp.relist(access.tenant.id, &server.name).await;
    tracing::info!(server = %server.name, tool = %pin.tool, by = %access.caller.key_id, "MCP tool definition approved");
    Ok(Json(approved))
}
