//! Policy bundles: push, validate, test, simulate, activate, roll back, shadow. A tenant's bundle
//! is named after the tenant; its revisions are immutable and named by content hash.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_core::*;
use sentinel_pipeline::{Simulation, TenantPolicy};
use sentinel_policy::{Bundle, PolicyError, SourceError, TestOutcome, TestReport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, Created};
use crate::auth::{Manage, Read, TenantAccess};
use crate::extract::{ValidJson, ValidPath, ValidQuery};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push, list))
        .routes(routes!(get_revision))
        .routes(routes!(validate))
        .routes(routes!(test))
        .routes(routes!(simulate))
        .routes(routes!(activate))
        .routes(routes!(rollback))
        .routes(routes!(set_shadow, clear_shadow))
        .routes(routes!(list_decisions))
        .routes(routes!(get_decision))
}

#[derive(Serialize, ToSchema)]
pub struct Validation {
    pub valid: bool,
    pub revision: String,
    pub errors: Vec<SourceError>,
    /// How a valid bundle would be evaluated under this server's `policy_evaluator`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluator: Option<EvaluatorChoice>,
}

/// Which evaluator decides for a bundle, and why not the bytecode VM when it is not.
#[derive(Serialize, ToSchema)]
pub struct EvaluatorChoice {
    /// `vm` (regorus's bytecode VM) or `interpreter`.
    pub engine: &'static str,
    /// Why the interpreter: the rule that could produce conflicting values, with its
    /// `file:line`, the VM compiler's refusal, or the server's configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How many `deny` and `approval` rules run only for inputs their leading guards let
    /// through (the VM's rule index; docs/policies.md).
    pub rules_indexed: usize,
}

impl EvaluatorChoice {
    fn of(compiled: &sentinel_policy::CompiledPolicy) -> EvaluatorChoice {
        EvaluatorChoice {
            engine: if compiled.on_bytecode() {
                "vm"
            } else {
                "interpreter"
            },
            reason: compiled.interpreted_because().map(String::from),
            rules_indexed: compiled.rules_indexed(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TestRun {
    pub revision: String,
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    pub tests: Vec<TestReport>,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyOverview {
    pub bundle: String,
    pub active: Option<String>,
    pub shadow: Option<String>,
    pub revisions: Vec<String>,
    pub activations: Vec<PolicyActivation>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PushQuery {
    /// Activate the revision once stored.
    #[serde(default)]
    activate: bool,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// A stored revision to simulate…
    #[serde(default)]
    pub revision: Option<String>,
    /// …or a bundle not yet pushed.
    #[serde(default)]
    pub bundle: Option<Bundle>,
    /// How many of the newest recorded decisions to replay (1-10000, default 1000).
    #[serde(default)]
    pub last: Option<u32>,
}

impl sentinel_core::validate::Validate for SimulateRequest {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        use sentinel_core::validate::FieldError;
        if self.revision.is_some() == self.bundle.is_some() {
            return Err(FieldError {
                field: "revision".into(),
                message: "give either a revision or a bundle".into(),
            });
        }
        if let Some(b) = &self.bundle {
            b.validate().map_err(|e| FieldError {
                field: format!("bundle.{}", e.field),
                ..e
            })?;
        }
        match self.last {
            Some(n) if n == 0 || n > 10_000 => Err(FieldError {
                field: "last".into(),
                message: "between 1 and 10000".into(),
            }),
            _ => Ok(()),
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionRef {
    pub revision: String,
}

impl sentinel_core::validate::Validate for RevisionRef {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        sentinel_core::validate::text("revision", &Some(self.revision.clone()))
    }
}

fn invalid(e: PolicyError) -> ApiError {
    let detail = e.to_string();
    let field = match &e {
        PolicyError::Invalid(errors) => errors.first().map(|e| {
            if e.file.is_empty() {
                "modules".to_string()
            } else {
                format!("modules.{}", e.file)
            }
        }),
        _ => None,
    };
    let err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_policy", detail);
    match field {
        Some(f) => err.with_field(f),
        None => err,
    }
}

async fn stored(state: &AppState, tenant: uuid::Uuid, revision: &str) -> ApiResult<Bundle> {
    let r = state
        .store
        .policy_revision(tenant, revision)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("policy revision {revision:?}")))?;
    serde_json::from_value(r.bundle)
        .map_err(|e| ApiError::internal(format!("stored bundle unreadable: {e}")))
}

/// Push a bundle: validated, stored as an immutable revision, and activated with `?activate=true`.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/policies", tag = "policies", request_body = Bundle,
    params(("tenant" = String, Path, description = "Tenant slug or id"), PushQuery),
    security(("api_key" = [])), responses((status = 201, body = PolicyRevision)))]
async fn push(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidQuery(q): ValidQuery<PushQuery>,
    ValidJson(bundle): ValidJson<Bundle>,
) -> ApiResult<Created<PolicyRevision>> {
    let policy = state.pipeline.compile(&bundle).map_err(invalid)?;
    let revision = PolicyRevision {
        revision: bundle.revision(),
        bundle: serde_json::to_value(&bundle).map_err(|e| ApiError::internal(e.to_string()))?,
        created_at: ids::now(),
    };
    state
        .store
        .put_policy_revision(access.tenant.id, &revision)
        .await?;
    if q.activate {
        make_active(&state, &access, Arc::new(policy)).await?;
    }
    Ok(created(revision))
}

async fn make_active(
    state: &AppState,
    access: &TenantAccess<Manage>,
    policy: Arc<TenantPolicy>,
) -> ApiResult<()> {
    let revision = policy.compiled.revision().to_string();
    let details = serde_json::json!({"bundle": access.tenant.slug, "revision": revision});
    state
        .audit_event(
            Some(access.tenant.id),
            &access.caller,
            sentinel_audit::entry::EntryKind::PolicyActivation,
            details,
        )
        .await?;
    // Persist the activation before switching, so the switch survives a restart.
    state
        .store
        .record_activation(
            access.tenant.id,
            &PolicyActivation {
                revision: revision.clone(),
                activated_by: access.caller.key_id.to_string(),
                activated_at: ids::now(),
            },
        )
        .await?;
    let evaluator = EvaluatorChoice::of(&policy.compiled);
    state.pipeline.policies.activate(access.tenant.id, policy);
    crate::cluster::announce(state).await;
    state.pipeline.events.publish(
        sentinel_pipeline::events::kinds::POLICY_ACTIVATED,
        Some(access.tenant.id),
        None,
        serde_json::json!({"bundle": access.tenant.slug, "revision": revision, "by": access.caller.key_id}),
    );
    tracing::info!(tenant = %access.tenant.slug, %revision, evaluator = evaluator.engine,
        why = evaluator.reason.as_deref().unwrap_or(""), "policy activated");
    Ok(())
}

/// The bundle's revisions, the active one and the activation history.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/policies", tag = "policies",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = PolicyOverview)))]
async fn list(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
) -> ApiResult<Json<PolicyOverview>> {
    let t = access.tenant.id;
    Ok(Json(PolicyOverview {
        bundle: access.tenant.slug.clone(),
        active: state
            .pipeline
            .policies
            .active(t)
            .map(|p| p.compiled.revision().to_string()),
        shadow: state
            .pipeline
            .policies
            .shadow(t)
            .map(|p| p.compiled.revision().to_string()),
        revisions: state
            .store
            .list_policy_revisions(t)
            .await?
            .into_iter()
            .map(|r| r.revision)
            .collect(),
        activations: state.store.activations(t).await?,
    }))
}

/// One stored revision with its bundle.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/policies/{revision}", tag = "policies",
    params(("tenant" = String, Path, description = "Tenant slug or id"), ("revision" = String, Path, description = "sha256:…")),
    security(("api_key" = [])), responses((status = 200, body = PolicyRevision)))]
async fn get_revision(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<PolicyRevision>> {
    let r = state
        .store
        .policy_revision(access.tenant.id, &path.1)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("policy revision {:?}", path.1)))?;
    Ok(Json(r))
}

/// Validate a bundle without storing it: parse, compile and a dry evaluation; errors are located.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/policies/validate", tag = "policies", request_body = Bundle,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Validation)))]
async fn validate(
    State(state): State<AppState>,
    _: TenantAccess<Read>,
    ValidJson(bundle): ValidJson<Bundle>,
) -> Json<Validation> {
    let revision = bundle.revision();
    match state.pipeline.compile(&bundle) {
        Ok(policy) => Json(Validation {
            valid: true,
            revision,
            errors: vec![],
            evaluator: Some(EvaluatorChoice::of(&policy.compiled)),
        }),
        Err(PolicyError::Invalid(errors)) => Json(Validation {
            valid: false,
            revision,
            errors,
            evaluator: None,
        }),
        Err(other) => Json(Validation {
            valid: false,
            revision,
            errors: vec![SourceError {
                file: String::new(),
                line: 0,
                col: 0,
                message: other.to_string(),
            }],
            evaluator: None,
        }),
    }
}

/// Run a bundle's `test_*` rules, like `opa test`.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/policies/test", tag = "policies", request_body = Bundle,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = TestRun)))]
async fn test(
    State(state): State<AppState>,
    _: TenantAccess<Read>,
    ValidJson(bundle): ValidJson<Bundle>,
) -> ApiResult<Json<TestRun>> {
    let policy = state.pipeline.compile(&bundle).map_err(invalid)?;
    let tests = tokio::task::spawn_blocking(move || policy.compiled.run_tests())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let count = |o| tests.iter().filter(|t| t.outcome == o).count();
    Ok(Json(TestRun {
        revision: bundle.revision(),
        passed: count(TestOutcome::Pass),
        failed: count(TestOutcome::Fail),
        errored: count(TestOutcome::Error),
        tests,
    }))
}

/// Replay recorded decisions under a candidate: counts before and after, every changed
/// decision, and the candidate's rules that never fired.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/policies/simulate", tag = "policies", request_body = SimulateRequest,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Simulation)))]
async fn simulate(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidJson(req): ValidJson<SimulateRequest>,
) -> ApiResult<Json<Simulation>> {
    let bundle = match (req.bundle, req.revision) {
        (Some(b), _) => b,
        (None, Some(r)) => stored(&state, access.tenant.id, &r).await?,
        (None, None) => unreachable!("validated"),
    };
    let candidate = state.pipeline.compile(&bundle).map_err(invalid)?;
    let sim = state
        .pipeline
        .simulate(access.tenant.id, &candidate, req.last.unwrap_or(1000))
        .await?;
    Ok(Json(sim))
}

/// Activate a stored revision (no restart; the next decision uses it).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/policies/{revision}/activate", tag = "policies",
    params(("tenant" = String, Path, description = "Tenant slug or id"), ("revision" = String, Path, description = "sha256:…")),
    security(("api_key" = [])), responses((status = 200, body = PolicyOverview)))]
async fn activate(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<PolicyActivation>> {
    let bundle = stored(&state, access.tenant.id, &path.1).await?;
    let policy = state.pipeline.compile(&bundle).map_err(invalid)?;
    make_active(&state, &access, Arc::new(policy)).await?;
    Ok(Json(
        state.store.activations(access.tenant.id).await?.remove(0),
    ))
}

/// Re-activate the revision that was active before the current one.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/policies/rollback", tag = "policies",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = PolicyActivation)))]
async fn rollback(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
) -> ApiResult<Json<PolicyActivation>> {
    let history = state.store.activations(access.tenant.id).await?;
    let current = history.first().map(|a| a.revision.clone());
    let previous = history
        .iter()
        .find(|a| Some(&a.revision) != current.as_ref())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "nothing_to_roll_back",
                "no earlier revision was ever active",
            )
        })?;
    let bundle = stored(&state, access.tenant.id, &previous.revision).await?;
    let policy = state.pipeline.compile(&bundle).map_err(invalid)?;
    make_active(&state, &access, Arc::new(policy)).await?;
    Ok(Json(
        state.store.activations(access.tenant.id).await?.remove(0),
    ))
}

/// Shadow mode: evaluate a stored revision beside the active one on live traffic; its outcome
/// is recorded with each decision (`result.shadow`), never enforced.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/policies/shadow", tag = "policies", request_body = RevisionRef,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 204, description = "Shadowing")))]
async fn set_shadow(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidJson(r): ValidJson<RevisionRef>,
) -> ApiResult<StatusCode> {
    let bundle = stored(&state, access.tenant.id, &r.revision).await?;
    let policy = state.pipeline.compile(&bundle).map_err(invalid)?;
    state
        .pipeline
        .policies
        .set_shadow(access.tenant.id, Some(Arc::new(policy)));
    Ok(StatusCode::NO_CONTENT)
}

/// Stop shadowing.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/policies/shadow", tag = "policies",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 204, description = "Stopped")))]
async fn clear_shadow(State(state): State<AppState>, access: TenantAccess<Manage>) -> StatusCode {
    state.pipeline.policies.set_shadow(access.tenant.id, None);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    /// How many of the newest decisions (1-1000, default 100).
    limit: Option<u32>,
}

/// The decision log (OPA decision-log shape), newest first.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/decisions", tag = "decisions",
    params(("tenant" = String, Path, description = "Tenant slug or id"), DecisionQuery),
    security(("api_key" = [])), responses((status = 200, body = Vec<DecisionRecord>)))]
async fn list_decisions(
    State(state): State<AppState>,
    access: TenantAccess<crate::auth::ReadAudit>,
    ValidQuery(q): ValidQuery<DecisionQuery>,
) -> ApiResult<Json<Vec<DecisionRecord>>> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(
            ApiError::bad_request("invalid_query", "limit must be between 1 and 1000")
                .with_field("limit"),
        );
    }
    Ok(Json(
        state
            .store
            .recent_decisions(access.tenant.id, limit)
            .await?,
    ))
}

/// One recorded decision, by the `decision_id` its caller was given. With strict audit (the
/// default) a decision is recorded before it is answered, so this finds every answered one.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/decisions/{decision_id}", tag = "decisions",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
        ("decision_id" = String, Path, description = "The decision's id (a UUID)")),
    security(("api_key" = [])),
    responses((status = 200, body = DecisionRecord), (status = 404, description = "No such decision in this tenant")))]
async fn get_decision(
    State(state): State<AppState>,
    access: TenantAccess<crate::auth::ReadAudit>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<DecisionRecord>> {
    let not_found =
        || ApiError::not_found(format!("decision {:?}", path.1)).with_field("decision_id");
    let id = uuid::Uuid::try_parse(&path.1).map_err(|_| {
        ApiError::bad_request("invalid_path", "decision_id must be a UUID")
            .with_field("decision_id")
    })?;
    match state.store.decision(id).await? {
        // Another tenant's decision is as absent as a missing one.
        Some(record) if record.tenant_id == access.tenant.id => Ok(Json(record)),
        _ => Err(not_found()),
    }
}
