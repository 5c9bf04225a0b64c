//! Liveness and readiness probes (no key needed), metrics and the OpenAPI document.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

pub fn probes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

pub fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database answers too.
#[utoipa::path(get, path = "/ready", tag = "operations", responses((status = 200, body = Health)))]
async fn ready(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.store.ping().await?;
    Ok(Json(Health { status: "ready" }))
}

/// Prometheus metrics. Needs an admin key unless `metrics_public` is set (then it is served
/// outside authentication, see `serve.rs`).
#[utoipa::path(
    get, path = "/metrics", tag = "operations", security(("api_key" = [])),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
async fn metrics(Caller(caller): Caller) -> Result<Response, ApiError> {
    if caller.role != sentinel_core::Role::Admin {
        return Err(ApiError::forbidden("metrics need an admin key"));
    }
    Ok(crate::metrics::render().await)
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get, path = "/openapi.json", tag = "operations", security(("api_key" = [])),
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi(_: Caller) -> Response {
    Json(crate::serve::openapi_document()).into_response()
}
