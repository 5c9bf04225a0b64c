//! Tenant secrets: credentials for upstream MCP servers and LLM providers. Values are
//! write-only: they go in by `PUT`, sealed by the [`sentinel_pipeline::SecretVault`], and come
//! out only where an enforcement point injects them upstream — never through this API, never in
//! the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_audit::entry::EntryKind;
use sentinel_core::secret::secret_name;
use sentinel_core::{SecretMeta, SecretValue};
use sentinel_pipeline::SecretError;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Manage, Read, TenantAccess};
use crate::extract::{ValidJson, ValidPath};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_secrets))
        .routes(routes!(get_secret, put_secret, delete_secret))
}

/// Most secrets one tenant may keep.
const MAX_SECRETS: usize = 1000;

impl From<SecretError> for ApiError {
    fn from(e: SecretError) -> Self {
        match e {
            SecretError::Store(e) => e.into(),
            SecretError::Missing(name) => ApiError::not_found(format!("secret {name:?}")),
            e @ SecretError::Unterminated => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            e @ SecretError::Unreadable(_) => {
                tracing::error!(error = %e, "a sealed secret did not open");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "secret_unreadable",
                    e.to_string(),
                )
            }
        }
    }
}

fn checked_name(name: &str) -> ApiResult<&str> {
    secret_name("name", name)?;
    Ok(name)
}

/// The tenant's secrets: names, descriptions, versions and times, never values.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/secrets", tag = "secrets",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Vec<SecretMeta>)))]
async fn list_secrets(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
) -> ApiResult<Json<Vec<SecretMeta>>> {
    Ok(Json(state.secrets.list(access.tenant.id).await?))
}

/// One secret's metadata.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/secrets/{name}", tag = "secrets",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("name" = String, Path, description = "Secret name")),
    security(("api_key" = [])), responses((status = 200, body = SecretMeta)))]
async fn get_secret(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<SecretMeta>> {
    let name = checked_name(&path.1)?;
    state
        .secrets
        .meta(access.tenant.id, name)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("secret {name:?}")))
}

/// Create or replace a secret. `201` when it is new, `200` when it replaced a value (its
/// `version` goes up). Upstreams refer to it as `${secret:NAME}`.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/secrets/{name}", tag = "secrets",
    request_body = SecretValue,
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("name" = String, Path, description = "Secret name: A-Z a-z 0-9 _ . -, at most 64")),
    security(("api_key" = [])),
    responses((status = 201, body = SecretMeta), (status = 200, body = SecretMeta)))]
async fn put_secret(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
    ValidJson(body): ValidJson<SecretValue>,
) -> ApiResult<(StatusCode, Json<SecretMeta>)> {
    let name = checked_name(&path.1)?;
    let tenant = access.tenant.id;
    let existing = state.secrets.meta(tenant, name).await?;
    if existing.is_none() && state.secrets.list(tenant).await?.len() >= MAX_SECRETS {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "limit",
            format!("a tenant keeps at most {MAX_SECRETS} secrets"),
        ));
    }
    let version = existing.as_ref().map_or(1, |m| m.version + 1);
    record(&state, &access, "put", name, version).await?;
    let meta = state
        .secrets
        .put(tenant, name, &body.value, body.description)
        .await?;
    tracing::info!(secret = %name, version = meta.version, by = %access.caller.key_id, "secret set");
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(meta)))
}

/// Delete a secret. Upstreams that refer to it fail to start until it is set again.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/secrets/{name}", tag = "secrets",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("name" = String, Path, description = "Secret name")),
    security(("api_key" = [])), responses((status = 204, description = "Deleted")))]
async fn delete_secret(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let name = checked_name(&path.1)?;
    let meta = state
        .secrets
        .meta(access.tenant.id, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("secret {name:?}")))?;
    record(&state, &access, "delete", name, meta.version).await?;
    state.secrets.delete(access.tenant.id, name).await?;
    tracing::info!(secret = %name, by = %access.caller.key_id, "secret deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log learns that a secret changed and who changed it, never the value.
async fn record(
    state: &AppState,
    access: &TenantAccess<Manage>,
    action: &str,
    name: &str,
    version: u32,
) -> ApiResult<()> {
    state
        .audit_event(
            Some(access.tenant.id),
            &access.caller,
            EntryKind::Configuration,
            serde_json::json!({ "action": format!("secret.{action}"), "secret": name, "version": version }),
        )
        .await
}
