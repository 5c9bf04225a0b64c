//! The audit log over HTTP: signed checkpoints, the verifier key, entries with filters,
//! inclusion and consistency proofs, and a full export for offline verification.
//!
//! Auditors and operators see their own tenant's entries; the export (every entry, needed to
//! recompute the tree) is for admins. Checkpoints and consistency proofs are global.

use std::cell::RefCell;
use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sentinel_audit::merkle::{self, Hash, HashReader};
use sentinel_audit::AuditError;
use sentinel_core::{Permission, Principal, Role};
use sentinel_store::{AuditFilter, AuditRecord, StoredCheckpoint};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::{ValidPath, ValidQuery};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(verifier_key))
        .routes(routes!(list_entries))
        .routes(routes!(get_entry))
        .routes(routes!(consistency))
        .routes(routes!(export))
        .routes(routes!(leaf_hashes))
}

/// A caller who may read the audit log: its tenant, or `None` for admins (all tenants).
fn auditor(caller: &Principal) -> ApiResult<Option<Uuid>> {
    if !caller.role.allows(Permission::ReadAudit) {
        return Err(ApiError::forbidden(
            "reading the audit log needs an auditor, operator or admin key",
        ));
    }
    Ok(if caller.role == Role::Admin {
        None
    } else {
        caller.tenant_id
    })
}

fn admin(caller: &Principal) -> ApiResult<()> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "the full export needs an admin key; auditors list their tenant's entries with proofs",
        ))
    }
}

pub(crate) async fn latest(state: &AppState) -> ApiResult<StoredCheckpoint> {
    state.store.latest_checkpoint().await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_checkpoint",
            "no checkpoint has been signed yet; retry in a second",
        )
    })
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// Reads the stored hashes a proof needs with one query: the proof functions are run once to
/// learn which indexes they ask for (in RFC 6962 trees that depends only on sizes), then
/// again over what was fetched.
pub(crate) async fn with_hashes<T>(
    state: &AppState,
    run: impl Fn(&dyn HashReader) -> Result<T, AuditError>,
) -> ApiResult<T> {
    struct Recorder(RefCell<Vec<u64>>);
    impl HashReader for Recorder {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, AuditError> {
            self.0.borrow_mut().extend_from_slice(indexes);
            Ok(vec![[0; 32]; indexes.len()])
        }
    }
    struct Fetched(HashMap<u64, Hash>);
    impl HashReader for Fetched {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, AuditError> {
            indexes
                .iter()
                .map(|i| {
                    self.0
                        .get(i)
                        .copied()
                        .ok_or_else(|| AuditError::HashStorage(format!("hash {i}")))
                })
                .collect()
        }
    }
    let recorder = Recorder(RefCell::new(Vec::new()));
    run(&recorder).map_err(|e| ApiError::bad_request("invalid_proof_request", e.to_string()))?;
    let indexes = recorder.0.into_inner();
    let hashes = state.store.audit_hashes(&indexes).await?;
    let fetched = Fetched(indexes.into_iter().zip(hashes).collect());
    run(&fetched).map_err(|e| ApiError::internal(format!("proof: {e}")))
}

/// The newest signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note).
#[utoipa::path(get, path = "/v1/audit/checkpoint", tag = "audit", security(("api_key" = [])),
    responses((status = 200, description = "Signed note", content_type = "text/plain")))]
async fn checkpoint(State(state): State<AppState>, Caller(caller): Caller) -> ApiResult<Response> {
    auditor(&caller)?;
    Ok(text(latest(&state).await?.note))
}

/// The key that verifies checkpoints, in the standard note verifier-key form.
#[utoipa::path(get, path = "/v1/audit/verifier-key", tag = "audit", security(("api_key" = [])),
    responses((status = 200, description = "`<name>+<hex id>+<base64 key>`", content_type = "text/plain")))]
async fn verifier_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Response> {
    auditor(&caller)?;
    Ok(text(format!("{}\n", state.audit.verifier_key())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// Admins only: one tenant's entries (id).
    tenant: Option<Uuid>,
    /// `decision`, `kill`, `restore`, `policy_activation`, `key_change`, …
    kind: Option<String>,
    agent: Option<String>,
    tool: Option<String>,
    /// `allow`, `deny`, `approval_required`.
    outcome: Option<String>,
    /// RFC 3339; entries at or after.
    since: Option<String>,
    /// RFC 3339; entries before.
    until: Option<String>,
    /// 1-1000, default 100.
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct EntryView {
    pub index: u64,
    pub kind: String,
    pub tenant_id: Option<Uuid>,
    pub agent: Option<String>,
    pub tool: Option<String>,
    pub outcome: Option<String>,
    /// RFC 6962 leaf hash, base64.
    pub leaf_hash: String,
    /// The entry as hashed (its canonical JSON, parsed).
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct EntryPage {
    pub items: Vec<EntryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<u64>,
}

fn view(r: AuditRecord) -> EntryView {
    EntryView {
        index: r.seq,
        kind: r.kind,
        tenant_id: r.tenant_id,
        agent: r.agent,
        tool: r.tool,
        outcome: r.outcome,
        leaf_hash: B64.encode(r.leaf_hash),
        entry: serde_json::from_str(&r.entry).unwrap_or(serde_json::Value::Null),
    }
}

fn time_param(field: &str, v: &Option<String>) -> ApiResult<Option<time::OffsetDateTime>> {
    v.as_deref()
        .map(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339))
        .transpose()
        .map_err(|_| {
            ApiError::bad_request("invalid_query", format!("{field} must be an RFC 3339 time"))
                .with_field(field)
        })
}

/// Audit entries, filtered and paginated, oldest first.
#[utoipa::path(get, path = "/v1/audit/entries", tag = "audit", params(EntryQuery), security(("api_key" = [])),
    responses((status = 200, body = EntryPage)))]
async fn list_entries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidQuery(q): ValidQuery<EntryQuery>,
) -> ApiResult<Json<EntryPage>> {
    let scope = auditor(&caller)?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(
            ApiError::bad_request("invalid_query", "limit must be between 1 and 1000")
                .with_field("limit"),
        );
    }
    let filter = AuditFilter {
        tenant: scope.or(q.tenant),
        kind: q.kind,
        agent: q.agent,
        tool: q.tool,
        outcome: q.outcome,
        since: time_param("since", &q.since)?,
        until: time_param("until", &q.until)?,
    };
    let mut rows = state
        .store
        .audit_entries(&filter, q.cursor, limit + 1)
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(Json(EntryPage {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct EntryWithProof {
    #[serde(flatten)]
    pub entry: EntryView,
    /// The size of the tree the proof is for: the newest checkpoint's.
    pub tree_size: u64,
    /// RFC 6962 inclusion proof, base64 hashes.
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint the proof leads to.
    pub checkpoint: String,
}

/// One entry with its inclusion proof in the newest checkpoint.
#[utoipa::path(get, path = "/v1/audit/entries/{index}", tag = "audit",
    params(("index" = u64, Path, description = "Entry index (sequence number)")), security(("api_key" = [])),
    responses((status = 200, body = EntryWithProof)))]
async fn get_entry(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidPath(index): ValidPath<u64>,
) -> ApiResult<Json<EntryWithProof>> {
    let scope = auditor(&caller)?;
    let record = state
        .store
        .audit_entry(index)
        .await?
        .filter(|r| scope.is_none() || r.tenant_id == scope);
    let record = record.ok_or_else(|| ApiError::not_found(format!("audit entry {index}")))?;
    let cp = latest(&state).await?;
    if index >= cp.size {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_checkpointed_yet",
            "the entry is newer than the newest checkpoint; retry in a second",
        ));
    }
    let proof = with_hashes(&state, |r| {
        merkle::prove_record(cp.size, index, &DynReader(r))
    })
    .await?;
    Ok(Json(EntryWithProof {
        entry: view(record),
        tree_size: cp.size,
        inclusion_proof: proof.iter().map(|h| B64.encode(h)).collect(),
        checkpoint: cp.note,
    }))
}

/// `&dyn HashReader` as a sized reader for the generic proof functions.
pub(crate) struct DynReader<'a>(pub &'a dyn HashReader);

impl HashReader for DynReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, AuditError> {
        self.0.read_hashes(indexes)
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size (a checkpoint you hold).
    from: u64,
    /// The newer tree size; default the newest checkpoint's.
    to: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// RFC 6962 consistency proof, base64 hashes.
    pub proof: Vec<String>,
    /// The signed checkpoint for `to`.
    pub checkpoint: Option<String>,
}

/// Proof that the tree of size `to` extends the tree of size `from` (nothing changed, removed
/// or reordered in between).
#[utoipa::path(get, path = "/v1/audit/consistency", tag = "audit", params(ConsistencyQuery), security(("api_key" = [])),
    responses((status = 200, body = ConsistencyProof)))]
async fn consistency(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidQuery(q): ValidQuery<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyProof>> {
    auditor(&caller)?;
    // Bad input is a 400 whether or not a checkpoint exists yet.
    let bad_range = q.from == 0 || q.to.is_some_and(|to| q.from > to);
    let to = match q.to {
        Some(t) => t,
        None if bad_range => 0,
        None => latest(&state).await?.size,
    };
    if bad_range || q.from > to || to > state.store.audit_size().await? {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!(
                "need 0 < from <= to <= the log's size (from {}, to {to})",
                q.from
            ),
        )
        .with_field("from"));
    }
    let proof = with_hashes(&state, |r| merkle::prove_tree(to, q.from, &DynReader(r))).await?;
    let checkpoint = state.store.checkpoint_at(to).await?.map(|c| c.note);
    Ok(Json(ConsistencyProof {
        from: q.from,
        to,
        proof: proof.iter().map(|h| B64.encode(h)).collect(),
        checkpoint,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Export the first `size` entries; default the newest checkpoint's size.
    size: Option<u64>,
}

async fn export_size(state: &AppState, size: Option<u64>) -> ApiResult<u64> {
    match size {
        Some(s) if s <= state.store.audit_size().await? => Ok(s),
        Some(_) => Err(
            ApiError::bad_request("invalid_query", "size is larger than the log")
                .with_field("size"),
        ),
        None => Ok(latest(state).await?.size),
    }
}

/// Streams `size` entries page by page, mapping each with `line`.
fn stream_lines(state: AppState, size: u64, line: fn(&AuditRecord) -> String) -> Body {
    let pages = futures_util::stream::unfold((state, 0u64), move |(state, next)| async move {
        if next >= size {
            return None;
        }
        let limit = (size - next).min(1000) as u32;
        let after = next.checked_sub(1);
        let chunk = match state
            .store
            .audit_entries(&AuditFilter::default(), after, limit)
            .await
        {
            Ok(rows) if !rows.is_empty() => rows,
            Ok(_) => return None,
            Err(e) => return Some((Err(std::io::Error::other(e.to_string())), (state, size))),
        };
        let next = chunk.last().map(|r| r.seq + 1).unwrap_or(size);
        let text: String = chunk.iter().map(|r| line(r) + "\n").collect();
        Some((Ok::<_, std::io::Error>(text), (state, next)))
    });
    Body::from_stream(pages)
}

/// Every entry as NDJSON, one canonical entry per line: what `sentinel audit verify` and any
/// RFC 6962 implementation recompute the tree from (admin).
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", params(ExportQuery), security(("api_key" = [])),
    responses((status = 200, description = "NDJSON", content_type = "application/x-ndjson")))]
async fn export(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidQuery(q): ValidQuery<ExportQuery>,
) -> ApiResult<Response> {
    streamed(
        state,
        &caller,
        q,
        |r| r.entry.clone(),
        "application/x-ndjson",
    )
    .await
}

/// The stored leaf hashes, one base64 hash per line: with them, verification names the first
/// changed entry exactly (admin).
#[utoipa::path(get, path = "/v1/audit/leaf-hashes", tag = "audit", params(ExportQuery), security(("api_key" = [])),
    responses((status = 200, description = "One base64 hash per line", content_type = "text/plain")))]
async fn leaf_hashes(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidQuery(q): ValidQuery<ExportQuery>,
) -> ApiResult<Response> {
    streamed(
        state,
        &caller,
        q,
        |r| B64.encode(r.leaf_hash),
        "text/plain; charset=utf-8",
    )
    .await
}

/// An admin-only listing of the first `size` entries, one `line` each.
async fn streamed(
    state: AppState,
    caller: &Principal,
    q: ExportQuery,
    line: fn(&AuditRecord) -> String,
    content_type: &'static str,
) -> ApiResult<Response> {
    admin(caller)?;
    let size = export_size(&state, q.size).await?;
    let body = stream_lines(state, size, line);
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
