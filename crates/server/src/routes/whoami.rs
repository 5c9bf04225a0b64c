//! `GET /v1/whoami`: what the presented key is (consoles use it to adapt to the role).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::Caller;
use crate::problem::ApiResult;
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct WhoAmI {
    pub key_id: Uuid,
    pub role: sentinel_core::Role,
    pub tenant: Option<sentinel_core::Tenant>,
    pub agent: Option<sentinel_core::Agent>,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(whoami))
}

#[utoipa::path(get, path = "/v1/whoami", tag = "keys", security(("api_key" = [])),
    responses((status = 200, body = WhoAmI)))]
async fn whoami(State(state): State<AppState>, Caller(caller): Caller) -> ApiResult<Json<WhoAmI>> {
    let tenant = match caller.tenant_id {
        Some(t) => state.store.tenant(&t.to_string()).await?,
        None => None,
    };
    let agent = match (caller.tenant_id, caller.agent_id) {
        (Some(t), Some(a)) => state.store.agent(t, &a.to_string()).await?,
        _ => None,
    };
    Ok(Json(WhoAmI {
        key_id: caller.key_id,
        role: caller.role,
        tenant,
        agent,
    }))
}
