//! Approval requests: operators list and answer them; the agent that asked waits on its request
//! (long-poll) and collects the grant that lets it resubmit the approved action once.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use sentinel_core::*;
use sentinel_pipeline::{ApprovalError, Approver};
use sentinel_store::ApprovalFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{Caller, Read, TenantAccess};
use crate::extract::{PageParams, ValidJson, ValidPath, ValidQuery};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

/// The longest a long-poll may wait.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_approvals))
        .routes(routes!(get_approval))
        .routes(routes!(answer))
        .routes(routes!(cancel))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    /// pending, approved, denied, expired or cancelled.
    status: Option<String>,
    agent: Option<String>,
    tool: Option<String>,
    /// Page size, 1-500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Long-poll: answer as soon as the request leaves `pending`, or after this long
    /// (`30s`, `2m`, or seconds; at most 60 s).
    wait: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct ApprovalPath {
    /// The approval request's id.
    id: Uuid,
}

/// An approval request as its reader may see it.
#[derive(Serialize, ToSchema)]
pub struct ApprovalView {
    #[serde(flatten)]
    pub approval: Approval,
    /// Only for the agent that asked, once approved and while unused: present it in the
    /// `Sentinel-Grant` header of `/v1/check` with the exact same action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
}

#[derive(Serialize, ToSchema)]
pub struct Grant {
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// `true` approves, `false` denies.
    pub granted: bool,
    /// Why: kept in the record and the audit log.
    pub reason: String,
}

impl validate::Validate for AnswerRequest {
    fn validate(&self) -> Result<(), validate::FieldError> {
        validate::reason("reason", &self.reason)
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: String,
}

impl validate::Validate for CancelRequest {
    fn validate(&self) -> Result<(), validate::FieldError> {
        validate::reason("reason", &self.reason)
    }
}

/// Approval requests of a tenant, filtered and paginated (oldest first).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/approvals", tag = "approvals",
    params(("tenant" = String, Path, description = "Tenant slug or id"), ApprovalQuery),
    security(("api_key" = [])), responses((status = 200, body = Page<Approval>)))]
async fn list_approvals(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidQuery(q): ValidQuery<ApprovalQuery>,
) -> ApiResult<Json<Page<Approval>>> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .to_request()?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(ApprovalStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                "status is pending, approved, denied, expired or cancelled",
            )
            .with_field("status")
        })?),
    };
    let filter = ApprovalFilter {
        status,
        agent: q.agent,
        tool: q.tool,
    };
    Ok(Json(
        state
            .store
            .list_approvals(access.tenant.id, &filter, page)
            .await?,
    ))
}

/// One approval request. Operators and auditors of its tenant may read it, and so may the
/// agent that asked — which also gets the grant once approved. With `?wait=30s` the answer
/// comes as soon as the request is decided (or when the wait ends, still pending).
#[utoipa::path(get, path = "/v1/approvals/{id}", tag = "approvals",
    params(ApprovalPath, WaitQuery),
    security(("api_key" = [])), responses((status = 200, body = ApprovalView)))]
async fn get_approval(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidPath(path): ValidPath<ApprovalPath>,
    ValidQuery(q): ValidQuery<WaitQuery>,
) -> ApiResult<Json<ApprovalView>> {
    let wait = match q.wait.as_deref() {
        None => Duration::ZERO,
        Some(w) => parse_wait(w).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "wait is like 30s or 2m, at most 60s")
                .with_field("wait")
        })?,
    };
    let approval = readable(&state, &caller, path.id).await?;
    let approval = if approval.status == ApprovalStatus::Pending && !wait.is_zero() {
        state
            .pipeline
            .wait_for_answer(path.id, wait)
            .await
            .map_err(approval_error)?
            .unwrap_or(approval)
    } else {
        approval
    };
    let grant = (caller.agent_id == Some(approval.agent_id)
        && approval.status == ApprovalStatus::Approved
        && approval.grant_used_at.is_none())
    .then(|| Grant {
        token: state.pipeline.grant_token(&approval),
        expires_at: approval.grant_expires_at.unwrap_or(approval.expires_at),
    });
    Ok(Json(ApprovalView { approval, grant }))
}

/// Approve or deny a request. Needs an operator (or admin) key of its tenant, never the key of
/// the agent that asked. When policy asks for several approvers, each key answers once and
/// the request is approved when enough have; any denial denies it.
#[utoipa::path(post, path = "/v1/approvals/{id}/decision", tag = "approvals",
    params(ApprovalPath), request_body = AnswerRequest,
    security(("api_key" = [])), responses((status = 200, body = Approval)))]
async fn answer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidPath(path): ValidPath<ApprovalPath>,
    ValidJson(req): ValidJson<AnswerRequest>,
) -> ApiResult<Json<Approval>> {
    let approval = readable(&state, &caller, path.id).await?;
    if !caller.may(approval.tenant_id, Permission::Approve) {
        return Err(ApiError::forbidden(format!(
            "the {} role may not answer approval requests; an operator must",
            caller.role.as_str()
        )));
    }
    let key_name = state
        .store
        .api_key(caller.key_id)
        .await?
        .map(|k| k.name)
        .unwrap_or_else(|| caller.key_id.to_string());
    let approver = Approver {
        principal: caller,
        key_name,
    };
    let answered = state
        .pipeline
        .answer(path.id, &approver, req.granted, &req.reason)
        .await
        .map_err(approval_error)?;
    tracing::info!(approval = %answered.id, status = answered.status.as_str(), by = %approver.key_name, "approval answered");
    Ok(Json(answered))
}

/// Cancel a pending request: the agent that asked may withdraw it, an operator may cancel it.
#[utoipa::path(post, path = "/v1/approvals/{id}/cancel", tag = "approvals",
    params(ApprovalPath), request_body = CancelRequest,
    security(("api_key" = [])), responses((status = 200, body = Approval)))]
async fn cancel(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidPath(path): ValidPath<ApprovalPath>,
    ValidJson(req): ValidJson<CancelRequest>,
) -> ApiResult<Json<Approval>> {
    let approval = readable(&state, &caller, path.id).await?;
    if caller.role != Role::Agent && !caller.may(approval.tenant_id, Permission::Approve) {
        return Err(ApiError::forbidden(format!(
            "the {} role may not cancel approval requests",
            caller.role.as_str()
        )));
    }
    let cancelled = state
        .pipeline
        .cancel(path.id, &caller, &req.reason)
        .await
        .map_err(approval_error)?;
    Ok(Json(cancelled))
}

/// The request, when `caller` may see it: its tenant's readers, and the agent that asked.
/// Everyone else is told it does not exist.
async fn readable(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<Approval> {
    let not_found = || ApiError::not_found(format!("approval {id}"));
    let approval = state.store.approval(id).await?.ok_or_else(not_found)?;
    let may_read = match caller.role {
        Role::Agent => caller.agent_id == Some(approval.agent_id),
        _ => caller.may(approval.tenant_id, Permission::Read),
    };
    if may_read {
        Ok(approval)
    } else {
        Err(not_found())
    }
}

fn approval_error(e: ApprovalError) -> ApiError {
    use axum::http::StatusCode;
    match e {
        ApprovalError::NotFound => ApiError::not_found("approval"),
        ApprovalError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "approval_closed", m),
        ApprovalError::Forbidden(m) => ApiError::forbidden(m),
        ApprovalError::Unavailable(m) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m)
        }
    }
}

/// `30s`, `2m`, `45` (seconds); at most [`MAX_WAIT`].
fn parse_wait(w: &str) -> Option<Duration> {
    validate::duration(w).filter(|wait| *wait <= MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_and_read_in_seconds_or_minutes() {
        assert_eq!(parse_wait("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_wait("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_wait("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_wait("2m"), None);
        assert_eq!(parse_wait("-1s"), None);
        assert_eq!(parse_wait("soon"), None);
    }
}
