//! `POST /v1/check`: an agent asks before it acts. The data plane's front door.

use axum::extract::State;
use axum::http::HeaderMap;
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

/// Where an agent presents the grant of an approved request.
pub const GRANT_HEADER: &str = "sentinel-grant";

/// Decide an action: `allow`, `deny` or `approval_required`, with reasons. Needs an agent key;
/// the tenant and agent come from the key. Every failure inside the pipeline is a `deny` with
/// its reason, never an error status. A held action (`approval_required`) carries an
/// `approval_id`; once approved, resubmit the exact action with the grant in the
/// `Sentinel-Grant` header to have it allowed, once.
#[utoipa::path(post, path = "/v1/check", tag = "decisions", request_body = Action,
    params(("sentinel-grant" = Option<String>, Header, description = "Grant token of an approved request for this exact action")),
    security(("api_key" = [])), responses((status = 200, body = Decision)))]
async fn check(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ValidJson(action): ValidJson<Action>,
) -> ApiResult<Json<Decision>> {
    let (Role::Agent, Some(tenant_id), Some(agent_id)) =
        (caller.role, caller.tenant_id, caller.agent_id)
    else {
        return Err(ApiError::forbidden(
            "checks are made with an agent key (role `agent`)",
        ));
    };
    let grant = match headers.get(GRANT_HEADER).map(|v| v.to_str()) {
        None => None,
        Some(Ok(g)) if g.len() <= 200 => Some(g.trim()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_grant",
                "the grant header is not a grant token",
            )
            .with_field(GRANT_HEADER))
        }
    };
    let decision = state
        .pipeline
        .decide_with_grant(
            PipelineCaller {
                tenant_id,
                agent_id,
                key_id: caller.key_id,
            },
            action,
            grant,
        )
        .await;
    Ok(Json(decision))
}
