//! Kill switches: stop a tenant, agent, tool or session at once; restore; list.

use axum::extract::State;
use axum::Json;
use sentinel_audit::entry::EntryKind;
use sentinel_core::*;
use sentinel_pipeline::events::kinds;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{created, Created};
use crate::auth::{Kill as KillPermission, Read, TenantAccess};
use crate::extract::ValidJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kill))
        .routes(routes!(restore))
        .routes(routes!(list_kills))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KillRequest {
    pub scope: KillScope,
    /// Agent or tool name, or session id; omitted for `tenant`.
    #[serde(default)]
    pub target: Option<String>,
    pub reason: String,
}

impl sentinel_core::validate::Validate for KillRequest {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        use sentinel_core::validate::{name, reason, FieldError};
        reason("reason", &self.reason)?;
        match (self.scope, &self.target) {
            (KillScope::Tenant, _) => Ok(()),
            (_, Some(t)) => name("target", t),
            (_, None) => Err(FieldError {
                field: "target".into(),
                message: "name the agent, tool or session".into(),
            }),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// The kill to lift.
    pub kill_id: Uuid,
}

impl sentinel_core::validate::Validate for RestoreRequest {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        Ok(())
    }
}

/// Activate a kill switch. The very next decision in scope is denied.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/kill", tag = "kill switch", request_body = KillRequest,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 201, body = Kill)))]
async fn kill(
    State(state): State<AppState>,
    access: TenantAccess<KillPermission>,
    ValidJson(req): ValidJson<KillRequest>,
) -> ApiResult<Created<Kill>> {
    let tenant = access.tenant;
    let target = match req.scope {
        KillScope::Tenant => tenant.slug.clone(),
        _ => req.target.clone().unwrap_or_default(),
    };
    let kill = Kill {
        id: new_id(),
        tenant_id: tenant.id,
        scope: req.scope,
        target,
        reason: req.reason,
        created_by: access.caller.key_id.to_string(),
        created_at: ids::now(),
        lifted_at: None,
    };
    // Persist first, so that a kill acknowledged to the operator survives a restart.
    state.store.insert_kill(&kill).await?;
    state.pipeline.kills.add(kill.clone());
    crate::cluster::announce(&state).await;
    // A kill makes things safer, so it stands even when the audit log cannot take its entry.
    let details = serde_json::to_value(&kill).unwrap_or_default();
    if let Err(e) = state
        .audit_event(Some(tenant.id), &access.caller, EntryKind::Kill, details)
        .await
    {
        tracing::error!(detail = %e.detail, "kill applied but not audited");
    }
    if kill.scope == KillScope::Agent {
        set_agent_status(&state, tenant.id, &kill.target, AgentStatus::Killed).await?;
    }
    // Pending requests in scope can no longer be approved into anything.
    match state.pipeline.cancel_in_scope(&kill).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            cancelled = n,
            "kill switch cancelled pending approval requests"
        ),
        Err(e) => tracing::error!(error = %e, "kill applied but pending approvals not cancelled"),
    }
    state.pipeline.events.publish(
        kinds::KILL_ACTIVATED,
        Some(tenant.id),
        None,
        serde_json::to_value(&kill).unwrap_or_default(),
    );
    tracing::warn!(tenant = %tenant.slug, scope = ?kill.scope, target = %kill.target, reason = %kill.reason, "kill switch activated");
    Ok(created(kill))
}

/// Lift a kill switch.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/restore", tag = "kill switch", request_body = RestoreRequest,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Kill)))]
async fn restore(
    State(state): State<AppState>,
    access: TenantAccess<KillPermission>,
    ValidJson(req): ValidJson<RestoreRequest>,
) -> ApiResult<Json<Kill>> {
    let tenant = access.tenant.id;
    let Some(mut kill) = state
        .pipeline
        .kills
        .list(tenant)
        .into_iter()
        .find(|k| k.id == req.kill_id)
    else {
        return Err(ApiError::not_found("active kill").with_field("kill_id"));
    };
    let at = ids::now();
    let details =
        serde_json::json!({"kill_id": kill.id, "scope": kill.scope, "target": kill.target});
    state
        .audit_event(Some(tenant), &access.caller, EntryKind::Restore, details)
        .await?;
    state.store.lift_kill(kill.id, at).await?;
    state.pipeline.kills.lift(tenant, kill.id);
    crate::cluster::announce(&state).await;
    if kill.scope == KillScope::Agent
        && !state
            .pipeline
            .kills
            .list(tenant)
            .iter()
            .any(|k| k.scope == KillScope::Agent && k.target == kill.target)
    {
        set_agent_status(&state, tenant, &kill.target, AgentStatus::Active).await?;
    }
    kill.lifted_at = Some(at);
    state.pipeline.events.publish(
        kinds::KILL_RESTORED,
        Some(tenant),
        None,
        serde_json::to_value(&kill).unwrap_or_default(),
    );
    tracing::warn!(scope = ?kill.scope, target = %kill.target, "kill switch lifted");
    Ok(Json(kill))
}

/// Active kill switches.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/kills", tag = "kill switch",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Vec<Kill>)))]
async fn list_kills(State(state): State<AppState>, access: TenantAccess<Read>) -> Json<Vec<Kill>> {
    Json(state.pipeline.kills.list(access.tenant.id))
}

/// Keeps the inventory's agent status in line with agent-scoped kills.
async fn set_agent_status(
    state: &AppState,
    tenant: Uuid,
    name: &str,
    status: AgentStatus,
) -> ApiResult<()> {
    if let Some(mut agent) = state.store.agent(tenant, name).await? {
        agent.status = status;
        agent.updated_at = ids::now();
        state.store.update_agent(&agent).await?;
        state.pipeline.registry_changed();
    }
    Ok(())
}
