//! API keys: per tenant (`operator`, `auditor`, `agent`) and admin keys. A key's secret is shown
//! once, in the answer that creates it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_audit::entry::EntryKind;
use sentinel_core::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created};
use crate::auth::{Admin, Manage, Read, TenantAccess};
use crate::bootstrap::issue_key;
use crate::extract::{PageParams, ValidJson, ValidPath, ValidQuery};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
        .routes(routes!(create_admin_key, list_admin_keys))
        .routes(routes!(revoke_admin_key))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KeyQuery {
    /// Page size, 1-500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdminKey {
    #[serde(default)]
    pub name: Option<String>,
}

impl sentinel_core::validate::Validate for NewAdminKey {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        sentinel_core::validate::text("name", &self.name)
    }
}

/// Create a key in a tenant. `agent` keys must name their agent.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/keys", tag = "keys", request_body = NewApiKey,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 201, body = IssuedApiKey)))]
async fn create_key(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidJson(new): ValidJson<NewApiKey>,
) -> ApiResult<Created<IssuedApiKey>> {
    let tenant = access.tenant.id;
    let agent_id = match &new.agent {
        None => None,
        Some(name) => Some(
            state
                .store
                .agent(tenant, name)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_field",
                        format!("no agent {name:?} in this tenant"),
                    )
                    .with_field("agent")
                })?
                .id,
        ),
    };
    let name = new
        .name
        .unwrap_or_else(|| format!("{} key", new.role.as_str()));
    let details = serde_json::json!({"action": "create", "role": new.role, "agent_id": agent_id, "name": name});
    state
        .audit_event(Some(tenant), &access.caller, EntryKind::KeyChange, details)
        .await?;
    let issued = issue_key(
        state.store.as_ref(),
        Some(tenant),
        new.role,
        agent_id,
        &name,
    )
    .await?;
    tracing::info!(key_id = %issued.key.id, role = new.role.as_str(), by = %access.caller.key_id, "key created");
    Ok(created(issued))
}

/// List a tenant's keys (never their secrets).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/keys", tag = "keys",
    params(("tenant" = String, Path, description = "Tenant slug or id"), KeyQuery),
    security(("api_key" = [])), responses((status = 200, body = Page<ApiKey>)))]
async fn list_keys(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidQuery(q): ValidQuery<KeyQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .to_request()?;
    Ok(Json(
        state
            .store
            .list_api_keys(Some(access.tenant.id), page)
            .await?,
    ))
}

/// Revoke a tenant's key; it stops working at once on this node.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/keys/{key}", tag = "keys",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("key" = Uuid, Path, description = "Key id")),
    security(("api_key" = [])), responses((status = 204, description = "Revoked")))]
async fn revoke_key(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let key = path.1;
    match state.store.api_key(key).await? {
        Some(k) if k.tenant_id == Some(access.tenant.id) => {
            revoke(&state, &access.caller, Some(access.tenant.id), key).await
        }
        _ => Err(ApiError::not_found("key")),
    }
}

async fn revoke(
    state: &AppState,
    by: &Principal,
    tenant: Option<Uuid>,
    key: Uuid,
) -> ApiResult<StatusCode> {
    let details = serde_json::json!({"action": "revoke", "key_id": key});
    state
        .audit_event(tenant, by, EntryKind::KeyChange, details)
        .await?;
    state.store.revoke_api_key(key, ids::now()).await?;
    state.keys.forget(|k| k.id == key);
    tracing::info!(key_id = %key, "key revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Create an admin key (admin).
#[utoipa::path(post, path = "/v1/admin/keys", tag = "keys", request_body = NewAdminKey,
    security(("api_key" = [])), responses((status = 201, body = IssuedApiKey)))]
async fn create_admin_key(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ValidJson(new): ValidJson<NewAdminKey>,
) -> ApiResult<Created<IssuedApiKey>> {
    let name = new.name.unwrap_or_else(|| "admin key".into());
    let details = serde_json::json!({"action": "create", "role": "admin", "name": name});
    state
        .audit_event(None, &caller, EntryKind::KeyChange, details)
        .await?;
    let issued = issue_key(state.store.as_ref(), None, Role::Admin, None, &name).await?;
    tracing::info!(key_id = %issued.key.id, by = %caller.key_id, "admin key created");
    Ok(created(issued))
}

/// List admin keys (admin).
#[utoipa::path(get, path = "/v1/admin/keys", tag = "keys", params(KeyQuery),
    security(("api_key" = [])), responses((status = 200, body = Page<ApiKey>)))]
async fn list_admin_keys(
    State(state): State<AppState>,
    _: Admin,
    ValidQuery(q): ValidQuery<KeyQuery>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .to_request()?;
    Ok(Json(state.store.list_api_keys(None, page).await?))
}

/// Revoke an admin key (admin). The last active admin key cannot be revoked: that would lock
/// everyone out.
#[utoipa::path(delete, path = "/v1/admin/keys/{key}", tag = "keys",
    params(("key" = Uuid, Path, description = "Key id")),
    security(("api_key" = [])),
    responses((status = 204, description = "Revoked"), (status = 409, description = "Last admin key", body = crate::problem::Problem)))]
async fn revoke_admin_key(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ValidPath(key): ValidPath<Uuid>,
) -> ApiResult<StatusCode> {
    match state.store.api_key(key).await? {
        Some(k) if k.tenant_id.is_none() && k.revoked_at.is_none() => {}
        _ => return Err(ApiError::not_found("admin key")),
    }
    let page = PageRequest {
        limit: sentinel_core::page::MAX_LIMIT,
        after: None,
    };
    let active = state.store.list_api_keys(None, page).await?;
    if active
        .items
        .iter()
        .filter(|k| k.revoked_at.is_none())
        .count()
        <= 1
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "last_admin_key",
            "this is the last active admin key; create another before revoking it",
        ));
    }
    revoke(&state, &caller, None, key).await
}
