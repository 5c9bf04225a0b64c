//! `/v1/tenants/{tenant}/tools`: the tools a tenant's agents may call, with their risk.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_core::*;
use sentinel_store::ToolFilter;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, Created};
use crate::auth::{Manage, Read, TenantAccess};
use crate::extract::{PageParams, ValidJson, ValidPath, ValidQuery};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tool, list_tools))
        .routes(routes!(get_tool, update_tool, delete_tool))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ToolQuery {
    kind: Option<ToolKind>,
    risk: Option<Risk>,
    server: Option<String>,
    is_active: Option<bool>,
    /// Page size, 1-500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Register a tool. Without a `risk`, a tool is `critical`.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/tools", tag = "tools", request_body = NewTool,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 201, body = Tool)))]
async fn create_tool(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidJson(new): ValidJson<NewTool>,
) -> ApiResult<Created<Tool>> {
    let now = ids::now();
    let tool = Tool {
        id: new_id(),
        tenant_id: access.tenant.id,
        name: new.name,
        kind: new.kind,
        server: new.server,
        url: new.url,
        owner: new.owner,
        scopes: new.scopes,
        risk: new.risk,
        metadata: new.metadata,
        is_active: new.is_active,
        created_at: now,
        updated_at: now,
    };
    state.store.insert_tool(&tool).await?;
    state.pipeline.registry_changed();
    Ok(created(tool))
}

/// List tools, filtered and paginated.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/tools", tag = "tools",
    params(("tenant" = String, Path, description = "Tenant slug or id"), ToolQuery),
    security(("api_key" = [])), responses((status = 200, body = Page<Tool>)))]
async fn list_tools(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidQuery(q): ValidQuery<ToolQuery>,
) -> ApiResult<Json<Page<Tool>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .to_request()?;
    let filter = ToolFilter {
        kind: q.kind,
        risk: q.risk,
        server: q.server,
        is_active: q.is_active,
    };
    Ok(Json(
        state
            .store
            .list_tools(access.tenant.id, &filter, page)
            .await?,
    ))
}

async fn find(state: &AppState, tenant: uuid::Uuid, tool: &str) -> ApiResult<Tool> {
    state
        .store
        .tool(tenant, tool)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("tool {tool:?}")))
}

/// Get a tool by name or id.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/tools/{tool}", tag = "tools",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("tool" = String, Path, description = "Tool name or id")),
    security(("api_key" = [])), responses((status = 200, body = Tool)))]
async fn get_tool(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<Tool>> {
    Ok(Json(find(&state, access.tenant.id, &path.1).await?))
}

/// Change a tool: its risk, scopes, activity and so on.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/tools/{tool}", tag = "tools",
    request_body = ToolPatch,
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("tool" = String, Path, description = "Tool name or id")),
    security(("api_key" = [])), responses((status = 200, body = Tool)))]
async fn update_tool(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
    ValidJson(patch): ValidJson<ToolPatch>,
) -> ApiResult<Json<Tool>> {
    let mut tool = find(&state, access.tenant.id, &path.1).await?;
    let ToolPatch {
        kind,
        server,
        url,
        owner,
        scopes,
        risk,
        metadata,
        is_active,
    } = patch;
    tool.kind = kind.unwrap_or(tool.kind);
    tool.server = server.or(tool.server);
    tool.url = url.or(tool.url);
    tool.owner = owner.or(tool.owner);
    tool.scopes = scopes.unwrap_or(tool.scopes);
    tool.risk = risk.unwrap_or(tool.risk);
    tool.metadata = metadata.unwrap_or(tool.metadata);
    tool.is_active = is_active.unwrap_or(tool.is_active);
    tool.updated_at = ids::now();
    state.store.update_tool(&tool).await?;
    state.pipeline.registry_changed();
    Ok(Json(tool))
}

/// Delete a tool.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/tools/{tool}", tag = "tools",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("tool" = String, Path, description = "Tool name or id")),
    security(("api_key" = [])), responses((status = 204, description = "Deleted")))]
async fn delete_tool(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let tool = find(&state, access.tenant.id, &path.1).await?;
    state.store.delete_tool(access.tenant.id, tool.id).await?;
    state.pipeline.registry_changed();
    Ok(StatusCode::NO_CONTENT)
}
