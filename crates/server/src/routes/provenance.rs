//! Provenance manifests: for an allowed action whose execution result the adapter reports, a
//! DSSE envelope around an in-toto Statement v1. Its subjects are the action and the result;
//! its predicate names the policy revision, the input's provenance labels and the decision's
//! place in the audit log, with an inclusion proof to a signed checkpoint. Standard tooling
//! (securesystemslib, in-toto-attestation) verifies it with the key at `/v1/provenance/key`.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sentinel_audit::canonical::{canonical_json, sha256};
use sentinel_audit::dsse::{DsseVerifier, Envelope};
use sentinel_audit::entry::EntryKind;
use sentinel_audit::intoto::{
    ApprovalRecord, AuditReference, InputLabel, ProvenancePredicate, Statement, Subject,
};
use sentinel_audit::merkle;
use sentinel_core::{DecisionRecord, Permission, Principal, Role};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::audit::{latest, with_hashes, DynReader};
use super::{created, Created};
use crate::auth::Caller;
use crate::extract::{ValidJson, ValidPath};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign))
        .routes(routes!(get_manifest))
        .routes(routes!(verify))
        .routes(routes!(key))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The decision the agent acted on.
    pub decision_id: Uuid,
    /// `succeeded` or `failed`.
    pub status: String,
    /// What the execution returned; hashed into the manifest, not stored.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub result: Value,
}

impl sentinel_core::validate::Validate for SignRequest {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        match self.status.as_str() {
            "succeeded" | "failed" => Ok(()),
            _ => Err(sentinel_core::validate::FieldError {
                field: "status".into(),
                message: "succeeded or failed".into(),
            }),
        }
    }
}

/// `{"payload", "payloadType", "signatures": [{"keyid", "sig"}]}` — the DSSE envelope.
type EnvelopeJson = Value;

fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, detail)
}

/// With strict audit a decision's record is committed before its answer; without it, the
/// record is written just behind the answer: give it a moment.
async fn find_decision(state: &AppState, id: Uuid) -> ApiResult<DecisionRecord> {
    for _ in 0..20 {
        if let Some(d) = state.store.decision(id).await? {
            return Ok(d);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(ApiError::not_found(format!("decision {id}")).with_field("decision_id"))
}

/// The operators who approved the action, when it was allowed by a grant.
async fn approvals_of(state: &AppState, record: &DecisionRecord) -> ApiResult<Vec<ApprovalRecord>> {
    let Some(id) = record.result["approval_id"]
        .as_str()
        .and_then(|id| Uuid::try_parse(id).ok())
    else {
        return Ok(vec![]);
    };
    let approval = state.store.approval(id).await?;
    Ok(approval
        .into_iter()
        .filter(|a| a.tenant_id == record.tenant_id)
        .flat_map(|a| a.votes)
        .filter(|v| v.granted)
        .map(|v| ApprovalRecord {
            who: format!("{} (key {})", v.key_name, v.key_id),
            when: v
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        })
        .collect())
}

fn digest_map(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    [("sha256".to_string(), hex::encode(sha256(bytes)))].into()
}

/// Report an executed action's result and get its signed provenance manifest (agent key).
#[utoipa::path(post, path = "/v1/provenance/sign", tag = "provenance", request_body = SignRequest,
    security(("api_key" = [])),
    responses((status = 201, description = "DSSE envelope", body = Object),
              (status = 409, description = "Not an allowed decision, or already signed", body = crate::problem::Problem)))]
async fn sign(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidJson(req): ValidJson<SignRequest>,
) -> ApiResult<Created<EnvelopeJson>> {
    let (Role::Agent, Some(tenant), Some(_)) = (caller.role, caller.tenant_id, caller.agent_id)
    else {
        return Err(ApiError::forbidden(
            "results are reported with the acting agent's key",
        ));
    };
    let record = find_decision(&state, req.decision_id).await?;
    let agent = state
        .store
        .agent(tenant, &caller.agent_id.unwrap_or_default().to_string())
        .await?;
    if record.tenant_id != tenant || agent.map(|a| a.name) != Some(record.agent.clone()) {
        return Err(
            ApiError::not_found(format!("decision {}", req.decision_id)).with_field("decision_id")
        );
    }
    if record.outcome != "allow" {
        return Err(conflict(
            "not_allowed",
            format!(
                "decision {} was {}, not allow: nothing was executed",
                record.decision_id, record.outcome
            ),
        ));
    }
    if state.store.manifest(req.decision_id).await?.is_some() {
        return Err(conflict(
            "already_signed",
            "this decision already has a manifest",
        ));
    }
    let index = record.result["audit"]["index"]
        .as_u64()
        .ok_or_else(|| ApiError::internal("the decision has no audit entry"))?;
    let leaf_hash = record.result["audit"]["leaf_hash"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let result_bytes = canonical_json(&req.result);
    state
        .audit_event(Some(tenant), &caller, EntryKind::ExecutionResult, serde_json::json!({
            "decision_id": req.decision_id, "status": req.status, "result_digest": format!("sha256:{}", hex::encode(sha256(&result_bytes))),
        }))
        .await?;

    // The decision's inclusion proof, in a checkpoint that already covers it.
    let mut checkpoint = latest(&state).await?;
    for _ in 0..30 {
        if checkpoint.size > index {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        checkpoint = latest(&state).await?;
    }
    if checkpoint.size <= index {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_checkpointed_yet",
            "retry in a second",
        ));
    }
    let size = checkpoint.size;
    let proof = with_hashes(&state, |r| merkle::prove_record(size, index, &DynReader(r))).await?;

    let action = &record.input["action"];
    let action_bytes = canonical_json(action);
    let predicate = ProvenancePredicate {
        action_type: action["kind"].as_str().unwrap_or("tool_call").to_string(),
        parameters_digest: digest_map(&canonical_json(&action["arguments"])),
        policy_revision: record.revision.clone(),
        approvals: approvals_of(&state, &record).await?,
        input_provenance: serde_json::from_value::<Vec<InputLabel>>(
            action["context"]["provenance"].clone(),
        )
        .unwrap_or_default(),
        audit: AuditReference {
            origin: state.audit.origin().to_string(),
            index,
            leaf_hash,
            checkpoint: checkpoint.note,
            inclusion_proof: proof.iter().map(|h| B64.encode(h)).collect(),
        },
    };
    let subjects = vec![
        Subject {
            name: format!("action:{}", record.decision_id),
            digest: digest_map(&action_bytes),
        },
        Subject {
            name: format!("result:{}", record.decision_id),
            digest: digest_map(&result_bytes),
        },
    ];
    let envelope = Statement::provenance(subjects, &predicate).sign(&state.manifest_signer);
    let text = serde_json::to_string(&envelope).map_err(|e| ApiError::internal(e.to_string()))?;
    state
        .store
        .put_manifest(record.decision_id, tenant, &text)
        .await?;
    state
        .audit_event(Some(tenant), &caller, EntryKind::ProvenanceManifest, serde_json::json!({
            "decision_id": record.decision_id, "envelope_digest": format!("sha256:{}", hex::encode(sha256(text.as_bytes()))),
        }))
        .await?;
    Ok(created(serde_json::from_str(&text).unwrap_or_default()))
}

fn may_read(caller: &Principal, tenant: Uuid) -> bool {
    caller.may(tenant, Permission::ReadAudit)
        || (caller.role == Role::Agent && caller.tenant_id == Some(tenant))
}

/// A decision's manifest.
#[utoipa::path(get, path = "/v1/provenance/{decision_id}", tag = "provenance",
    params(("decision_id" = Uuid, Path, description = "Decision id")), security(("api_key" = [])),
    responses((status = 200, description = "DSSE envelope", body = Object)))]
async fn get_manifest(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidPath(id): ValidPath<Uuid>,
) -> ApiResult<Json<EnvelopeJson>> {
    match state.store.manifest(id).await? {
        Some((tenant, text)) if may_read(&caller, tenant) => {
            Ok(Json(serde_json::from_str(&text).unwrap_or_default()))
        }
        _ => Err(ApiError::not_found(format!("manifest for decision {id}"))),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub statement: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Verify a manifest against this server's key: the signature, the statement, and the audit
/// inclusion proof it carries.
#[utoipa::path(post, path = "/v1/provenance/verify", tag = "provenance", request_body = Object,
    security(("api_key" = [])), responses((status = 200, body = Verification)))]
async fn verify(
    State(state): State<AppState>,
    _: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<Verification>> {
    let envelope: Envelope = crate::extract::parse_json(&body)?;
    let verifier = DsseVerifier::new(*state.manifest_signer.verifier().verifying_key());
    let checked = Statement::verify_envelope(&envelope, &[verifier])
        .map_err(|e| e.to_string())
        .and_then(|st| {
            let p = st.provenance_predicate().map_err(|e| e.to_string())?;
            let cp = sentinel_audit::checkpoint::Checkpoint::verify_signed(
                &p.audit.checkpoint,
                state.audit.verifier(),
            )
            .map_err(|e| e.to_string())?;
            let decode = |s: &str| -> Result<merkle::Hash, String> {
                B64.decode(s)
                    .map_err(|e| e.to_string())?
                    .try_into()
                    .map_err(|_| "not a 32-byte hash".to_string())
            };
            let proof = p
                .audit
                .inclusion_proof
                .iter()
                .map(|h| decode(h))
                .collect::<Result<Vec<_>, _>>()?;
            merkle::check_record(
                &proof,
                cp.size,
                &cp.root_hash,
                p.audit.index,
                &decode(&p.audit.leaf_hash)?,
            )
            .map_err(|e| format!("audit inclusion: {e}"))?;
            Ok(st)
        });
    Ok(Json(match checked {
        Ok(st) => Verification {
            valid: true,
            statement: serde_json::to_value(st).ok(),
            error: None,
        },
        Err(e) => Verification {
            valid: false,
            statement: None,
            error: Some(e),
        },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKey {
    pub keyid: String,
    pub keytype: String,
    pub scheme: String,
    /// `{"public": "<hex>"}`, as securesystemslib keys are written.
    #[schema(value_type = Object)]
    pub keyval: Value,
}

/// The key that verifies manifests, in securesystemslib's key format.
#[utoipa::path(get, path = "/v1/provenance/key", tag = "provenance", security(("api_key" = [])),
    responses((status = 200, body = PublicKey)))]
async fn key(State(state): State<AppState>, _: Caller) -> Json<PublicKey> {
    let v = state.manifest_signer.verifier();
    Json(PublicKey {
        keyid: state.manifest_signer.keyid().to_string(),
        keytype: "ed25519".into(),
        scheme: "ed25519".into(),
        keyval: serde_json::json!({"public": hex::encode(v.verifying_key().as_bytes())}),
    })
}
