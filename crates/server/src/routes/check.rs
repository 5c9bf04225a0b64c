//! `POST /v1/check`: an agent asks before it acts. The data plane's front door.

use axum::extract::State;
use axum::Json;
use sentinel_core::{Action, Decision, Role};
use sentinel_pipeline::Caller as PipelineCaller;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Caller;
use crate::extract::ValidJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check))
}

/// Decide an action: `allow`, `deny` or `approval_required`, with reasons. Needs an agent key;
/// the tenant and agent come from the key. Every failure inside the pipeline is a `deny` with
/// its reason, never an error status.
#[utoipa::path(post, path = "/v1/check", tag = "decisions", request_body = Action,
    security(("api_key" = [])), responses((status = 200, body = Decision)))]
async fn check(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidJson(action): ValidJson<Action>,
) -> ApiResult<Json<Decision>> {
    let (Role::Agent, Some(tenant_id), Some(agent_id)) =
        (caller.role, caller.tenant_id, caller.agent_id)
    else {
        return Err(ApiError::forbidden(
            "checks are made with an agent key (role `agent`)",
        ));
    };
    let decision = state
        .pipeline
        .decide(
            PipelineCaller {
                tenant_id,
                agent_id,
            },
            action,
        )
        .await;
    Ok(Json(decision))
}
