//! `/v1/tenants`: admins create and delete tenants; members see their own.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_core::*;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, Created};
use crate::auth::{Admin, Caller, Manage, Read, TenantAccess};
use crate::extract::{PageParams, ValidJson, ValidQuery};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tenant, list_tenants))
        .routes(routes!(get_tenant, update_tenant, delete_tenant))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Page size, 1-500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Create a tenant (admin).
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = NewTenant,
    security(("api_key" = [])),
    responses((status = 201, body = Tenant), (status = 409, description = "Slug taken", body = crate::problem::Problem)))]
async fn create_tenant(
    State(state): State<AppState>,
    _: Admin,
    ValidJson(new): ValidJson<NewTenant>,
) -> ApiResult<Created<Tenant>> {
    let tenant = Tenant {
        id: new_id(),
        display_name: new.display_name.unwrap_or_else(|| new.slug.clone()),
        slug: new.slug,
        created_at: ids::now(),
    };
    state.store.insert_tenant(&tenant).await?;
    tracing::info!(tenant = %tenant.slug, "tenant created");
    Ok(created(tenant))
}

/// List tenants: all of them for admins, one's own for everyone else.
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", params(TenantQuery),
    security(("api_key" = [])), responses((status = 200, body = Page<Tenant>)))]
async fn list_tenants(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> ApiResult<Json<Page<Tenant>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .to_request()?;
    match caller.tenant_id {
        None => Ok(Json(state.store.list_tenants(page).await?)),
        Some(own) => {
            let items = state
                .store
                .tenant(&own.to_string())
                .await?
                .into_iter()
                .collect();
            Ok(Json(Page {
                items,
                next_cursor: None,
            }))
        }
    }
}

/// Get a tenant by slug or id.
#[utoipa::path(get, path = "/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Tenant)))]
async fn get_tenant(access: TenantAccess<Read>) -> Json<Tenant> {
    Json(access.tenant)
}

/// Change a tenant's display name.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}", tag = "tenants", request_body = TenantPatch,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Tenant)))]
async fn update_tenant(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidJson(patch): ValidJson<TenantPatch>,
) -> ApiResult<Json<Tenant>> {
    let mut tenant = access.tenant;
    if let Some(name) = patch.display_name {
        tenant.display_name = name;
    }
    state.store.update_tenant(&tenant).await?;
    Ok(Json(tenant))
}

/// Delete a tenant and everything it owns (admin).
#[utoipa::path(delete, path = "/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 204, description = "Deleted")))]
async fn delete_tenant(
    State(state): State<AppState>,
    _: Admin,
    access: TenantAccess<Read>,
) -> ApiResult<StatusCode> {
    let id = access.tenant.id;
    if !state.store.delete_tenant(id).await? {
        return Err(ApiError::not_found("tenant"));
    }
    state.keys.forget(|k| k.tenant_id == Some(id));
    tracing::info!(tenant = %access.tenant.slug, "tenant deleted");
    Ok(StatusCode::NO_CONTENT)
}
