//! `/v1/tenants/{tenant}/agents`: the agents a tenant runs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_core::*;
use sentinel_store::AgentFilter;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, Created};
use crate::auth::{Manage, Read, TenantAccess};
use crate::extract::{PageParams, ValidJson, ValidPath, ValidQuery};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_agent, list_agents))
        .routes(routes!(get_agent, update_agent, delete_agent))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgentQuery {
    status: Option<AgentStatus>,
    framework: Option<String>,
    owner: Option<String>,
    /// `key=value`: only agents carrying this label.
    label: Option<String>,
    /// Page size, 1-500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Register an agent.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/agents", tag = "agents", request_body = NewAgent,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 201, body = Agent)))]
async fn create_agent(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidJson(new): ValidJson<NewAgent>,
) -> ApiResult<Created<Agent>> {
    let now = ids::now();
    let agent = Agent {
        id: new_id(),
        tenant_id: access.tenant.id,
        name: new.name,
        framework: new.framework,
        owner: new.owner,
        description: new.description,
        status: AgentStatus::Active,
        labels: new.labels,
        created_at: now,
        updated_at: now,
    };
    state.store.insert_agent(&agent).await?;
    Ok(created(agent))
}

/// List agents, filtered and paginated.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/agents", tag = "agents",
    params(("tenant" = String, Path, description = "Tenant slug or id"), AgentQuery),
    security(("api_key" = [])), responses((status = 200, body = Page<Agent>)))]
async fn list_agents(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidQuery(q): ValidQuery<AgentQuery>,
) -> ApiResult<Json<Page<Agent>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .to_request()?;
    let label = match q.label {
        None => None,
        Some(l) => Some(
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    ApiError::bad_request("invalid_query", "label must be key=value")
                        .with_field("label")
                })?,
        ),
    };
    let filter = AgentFilter {
        status: q.status,
        framework: q.framework,
        owner: q.owner,
        label,
    };
    Ok(Json(
        state
            .store
            .list_agents(access.tenant.id, &filter, page)
            .await?,
    ))
}

async fn find(state: &AppState, tenant: uuid::Uuid, agent: &str) -> ApiResult<Agent> {
    state
        .store
        .agent(tenant, agent)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("agent {agent:?}")))
}

/// Get an agent by name or id.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/agents/{agent}", tag = "agents",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("agent" = String, Path, description = "Agent name or id")),
    security(("api_key" = [])), responses((status = 200, body = Agent)))]
async fn get_agent(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(find(&state, access.tenant.id, &path.1).await?))
}

/// Change an agent's description, owner, framework or labels.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/agents/{agent}", tag = "agents",
    request_body = AgentPatch,
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("agent" = String, Path, description = "Agent name or id")),
    security(("api_key" = [])), responses((status = 200, body = Agent)))]
async fn update_agent(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
    ValidJson(patch): ValidJson<AgentPatch>,
) -> ApiResult<Json<Agent>> {
    let mut agent = find(&state, access.tenant.id, &path.1).await?;
    if let Some(v) = patch.framework {
        agent.framework = Some(v);
    }
    if let Some(v) = patch.owner {
        agent.owner = Some(v);
    }
    if let Some(v) = patch.description {
        agent.description = Some(v);
    }
    if let Some(v) = patch.labels {
        agent.labels = v;
    }
    agent.updated_at = ids::now();
    state.store.update_agent(&agent).await?;
    state.pipeline.registry_changed();
    Ok(Json(agent))
}

/// Delete an agent; its keys stop working at once.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/agents/{agent}", tag = "agents",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("agent" = String, Path, description = "Agent name or id")),
    security(("api_key" = [])), responses((status = 204, description = "Deleted")))]
async fn delete_agent(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let agent = find(&state, access.tenant.id, &path.1).await?;
    state.store.delete_agent(access.tenant.id, agent.id).await?;
    state.pipeline.registry_changed();
    state.keys.forget(|k| k.agent_id == Some(agent.id));
    Ok(StatusCode::NO_CONTENT)
}
