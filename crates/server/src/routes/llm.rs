//! The LLM gateway's HTTP face (the gateway itself is `sentinel_llm`): OpenAI's
//! `/v1/chat/completions`, `/v1/embeddings` and `/v1/models`, Anthropic's `/v1/messages`, and
//! `GET /v1/usage`. Agents authenticate with their Sentinel key as the provider API key
//! (`Authorization: Bearer` or `x-api-key`). Errors are problem documents that also carry an
//! OpenAI-style `error` object, so SDKs raise them with their message.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sentinel_core::{Role, UsagePeriod, UsageQuery, UsageRow};
use sentinel_llm::upstream::Endpoint;
use sentinel_llm::{Client, LlmError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Caller;
use crate::extract::ValidQuery;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chat_completions))
        .routes(routes!(embeddings))
        .routes(routes!(messages))
        .routes(routes!(models))
        .routes(routes!(usage))
}

/// Names the session an LLM call belongs to (for session kill switches and taint).
pub const SESSION_HEADER: &str = "x-sentinel-session";

/// A problem document with an OpenAI-style `error` member beside the problem fields.
fn llm_error(e: LlmError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut body =
        serde_json::to_value(ApiError::new(status, e.code, e.message.clone()).to_problem())
            .unwrap_or_default();
    body["error"] = json!({"message": e.message, "type": e.code, "code": e.code});
    if let Value::Object(extra) = e.details {
        for (k, v) in extra {
            if !v.is_null() {
                body[k] = v;
            }
        }
    }
    let mut r = (status, Json(body)).into_response();
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(s) = e.retry_after {
        if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
            r.headers_mut().insert("retry-after", v);
        }
    }
    r
}

fn client(caller: &sentinel_core::Principal, headers: &HeaderMap) -> Result<Client, LlmError> {
    let (Role::Agent, Some(tenant_id), Some(agent_id)) =
        (caller.role, caller.tenant_id, caller.agent_id)
    else {
        return Err(LlmError::new(
            403,
            "forbidden",
            "LLM calls are made with an agent key (role `agent`)",
        ));
    };
    let session = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .map(String::from);
    Ok(Client {
        caller: sentinel_pipeline::Caller {
            tenant_id,
            agent_id,
            key_id: caller.key_id,
        },
        session,
    })
}

macro_rules! gateway_call {
    ($state:expr, $caller:expr, $headers:expr, $body:expr, $endpoint:expr) => {{
        let client = match client(&$caller, &$headers) {
            Ok(c) => c,
            Err(e) => return llm_error(e),
        };
        match $state.llm.clone().call(client, $endpoint, &$body).await {
            Ok(r) => r,
            Err(e) => llm_error(e),
        }
    }};
}

/// OpenAI chat completions through the gateway: limits, budget, policy (an action of kind
/// `llm_request`), input redaction, routing with retries and fallbacks, output scanning, usage.
/// Streams (`"stream": true`) are server-sent events, cut by a kill switch in scope.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "llm",
    request_body(content = Object, description = "An OpenAI chat completion request"),
    params(("x-sentinel-session" = Option<String>, Header, description = "Session id, for session kills")),
    security(("api_key" = [])),
    responses((status = 200, description = "The provider's answer (JSON or `text/event-stream`)"),
        (status = 403, description = "Denied by policy, held for approval, or output blocked"),
        (status = 429, description = "Rate limit or budget exhausted (`retry-after`)")))]
async fn chat_completions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    gateway_call!(state, caller, headers, body, Endpoint::Chat)
}

/// OpenAI embeddings through the gateway (inputs scanned and redacted like prompts).
#[utoipa::path(post, path = "/v1/embeddings", tag = "llm",
    request_body(content = Object, description = "An OpenAI embeddings request"),
    security(("api_key" = [])), responses((status = 200, description = "The provider's answer")))]
async fn embeddings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    gateway_call!(state, caller, headers, body, Endpoint::Embeddings)
}

/// Anthropic messages through the gateway, to Anthropic deployments (send the Sentinel key as
/// `x-api-key`).
#[utoipa::path(post, path = "/v1/messages", tag = "llm",
    request_body(content = Object, description = "An Anthropic messages request"),
    security(("api_key" = [])), responses((status = 200, description = "The provider's answer (JSON or `text/event-stream`)")))]
async fn messages(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    gateway_call!(state, caller, headers, body, Endpoint::Messages)
}

/// The model names the agent's tenant can ask for (its deployments' `model`s).
#[utoipa::path(get, path = "/v1/models", tag = "llm", security(("api_key" = [])),
    responses((status = 200, description = "An OpenAI model list")))]
async fn models(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
) -> Response {
    let client = match client(&caller, &headers) {
        Ok(c) => c,
        Err(e) => return llm_error(e),
    };
    match state.llm.models(&client).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => llm_error(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    /// Tenant slug or id; defaults to the caller's tenant (admins must name one).
    tenant: Option<String>,
    /// `hour` or `day` (default).
    period: Option<UsagePeriod>,
    /// Comma-separated: `agent`, `model` (default: both).
    group_by: Option<String>,
    /// Only this agent.
    agent: Option<String>,
    /// RFC 3339 start (default: 30 days ago).
    since: Option<String>,
    /// RFC 3339 end (default: now).
    until: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageReport {
    pub tenant: String,
    pub period: UsagePeriod,
    pub since: String,
    pub until: String,
    pub rows: Vec<UsageRow>,
}

fn time_param(name: &str, v: &Option<String>) -> ApiResult<Option<time::OffsetDateTime>> {
    v.as_deref()
        .map(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(
                |_| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("{name} must be an RFC 3339 time"),
                    )
                    .with_field(name)
                },
            )
        })
        .transpose()
}

/// LLM usage and cost, summed per time bucket, agent and model. Operators, auditors and admins
/// see their tenant; an agent key sees only its own agent's usage.
#[utoipa::path(get, path = "/v1/usage", tag = "llm", params(UsageParams), security(("api_key" = [])),
    responses((status = 200, body = UsageReport)))]
async fn usage(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidQuery(q): ValidQuery<UsageParams>,
) -> ApiResult<Json<UsageReport>> {
    let name = match (&q.tenant, caller.tenant_id) {
        (Some(t), _) => t.clone(),
        (None, Some(id)) => id.to_string(),
        (None, None) => {
            return Err(ApiError::bad_request("invalid_query", "name a tenant").with_field("tenant"))
        }
    };
    let tenant = match state.store.tenant(&name).await? {
        Some(t) if caller.may(t.id, sentinel_core::Permission::Read) => t,
        _ => return Err(ApiError::not_found(format!("tenant {name:?}"))),
    };
    let mut agent = q.agent.clone();
    if caller.role == Role::Agent {
        let own = match caller.agent_id {
            Some(id) => state.store.agent(tenant.id, &id.to_string()).await?,
            None => None,
        };
        agent = Some(own.map(|a| a.name).unwrap_or_default());
    }
    let (mut by_agent, mut by_model) = (true, true);
    if let Some(g) = &q.group_by {
        by_agent = false;
        by_model = false;
        for part in g.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "agent" => by_agent = true,
                "model" => by_model = true,
                other => {
                    return Err(ApiError::bad_request(
                        "invalid_query",
                        format!("group_by takes agent and model, not {other:?}"),
                    )
                    .with_field("group_by"))
                }
            }
        }
    }
    let now = sentinel_core::ids::now();
    let until = time_param("until", &q.until)?.unwrap_or(now + time::Duration::seconds(1));
    let since = time_param("since", &q.since)?.unwrap_or(now - time::Duration::days(30));
    let period = q.period.unwrap_or(UsagePeriod::Day);
    let query = UsageQuery {
        period,
        by_agent,
        by_model,
        agent,
        since,
        until,
    };
    let rows = state.store.llm_usage(tenant.id, &query).await?;
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    Ok(Json(UsageReport {
        tenant: tenant.slug,
        period,
        since: fmt(since),
        until: fmt(until),
        rows,
    }))
}
