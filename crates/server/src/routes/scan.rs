//! `POST /v1/scan`: the guard scanners on any text, with redaction; and the CaMeL seed's
//! command and path validators.

use axum::extract::State;
use axum::Json;
use sentinel_guard::{Detector, Direction, Finding, RedactMode, ScanOptions, ScanReport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Caller;
use crate::extract::ValidJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(scan))
        .routes(routes!(validate_command))
        .routes(routes!(validate_path))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    pub text: String,
    /// `input` (towards a tool or model) or `output` (coming back). Default `input`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub direction: Option<Direction>,
    /// Only these detectors (`secrets`, `pii`, `injection`, `command`); default all.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub detectors: Option<Vec<Detector>>,
    /// How secrets and PII are redacted: `mask` (default), `partial` or `hash`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub redact: Option<RedactMode>,
}

impl sentinel_core::validate::Validate for ScanRequest {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        Ok(())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanResponse {
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
    /// The text with secrets and PII redacted (injection and command findings are reported,
    /// not rewritten).
    pub redacted: String,
    pub truncated: bool,
    pub bytes_scanned: usize,
}

/// Scanning large inputs is CPU work: off the async workers above this size.
const INLINE_SCAN_BYTES: usize = 64 * 1024;

/// Scan text for secrets, PII, prompt injection and dangerous commands.
#[utoipa::path(post, path = "/v1/scan", tag = "guard", request_body = ScanRequest,
    security(("api_key" = [])), responses((status = 200, body = ScanResponse)))]
async fn scan(
    State(state): State<AppState>,
    _: Caller,
    ValidJson(req): ValidJson<ScanRequest>,
) -> ApiResult<Json<ScanResponse>> {
    let large = req.text.len() > INLINE_SCAN_BYTES;
    let guard = state.guard.clone();
    let key = state.redaction_key.clone();
    let work = move || {
        let mut opts = ScanOptions::new(req.direction.unwrap_or(Direction::Input));
        if let Some(d) = req.detectors {
            opts = opts.with_detectors(d);
        }
        let report = guard.scan(&req.text, &opts);
        let redactable: Vec<Finding> = report
            .findings
            .iter()
            .filter(|f| matches!(f.detector, Detector::Secrets | Detector::Pii))
            .cloned()
            .collect();
        let redacted = guard.redact(
            &req.text,
            &redactable,
            req.redact.unwrap_or(RedactMode::Mask),
            key.as_slice(),
        );
        ScanResponse {
            redacted,
            truncated: report.truncated,
            bytes_scanned: report.bytes_scanned,
            findings: report.findings,
        }
    };
    let response = if large {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
    } else {
        work()
    };
    metrics::counter!("sentinel_scans_total").increment(1);
    Ok(Json(response))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    pub command: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathRequest {
    pub path: String,
}

impl sentinel_core::validate::Validate for CommandRequest {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        Ok(())
    }
}

impl sentinel_core::validate::Validate for PathRequest {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        Ok(())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Validation {
    /// True when nothing dangerous was found.
    pub safe: bool,
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
}

impl From<ScanReport> for Validation {
    fn from(r: ScanReport) -> Self {
        Validation {
            safe: r.findings.is_empty(),
            findings: r.findings,
        }
    }
}

/// Check a shell command for destructive or exfiltrating patterns.
#[utoipa::path(post, path = "/v1/validate/command", tag = "guard", request_body = CommandRequest,
    security(("api_key" = [])), responses((status = 200, body = Validation)))]
async fn validate_command(
    State(state): State<AppState>,
    _: Caller,
    ValidJson(req): ValidJson<CommandRequest>,
) -> Json<Validation> {
    Json(state.guard.validate_command(&req.command).into())
}

/// Check a file path for traversal and sensitive locations.
#[utoipa::path(post, path = "/v1/validate/path", tag = "guard", request_body = PathRequest,
    security(("api_key" = [])), responses((status = 200, body = Validation)))]
async fn validate_path(
    State(state): State<AppState>,
    _: Caller,
    ValidJson(req): ValidJson<PathRequest>,
) -> Json<Validation> {
    Json(state.guard.validate_path(&req.path).into())
}
