//! The authentication middleware: every route behind it needs a valid API key, presented as
//! `Authorization: Bearer <key>` or `x-api-key: <key>` (what OpenAI and Anthropic clients send).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use sentinel_core::Principal;

use super::key_cache::KeyRejection;
use crate::problem::ApiError;
use crate::AppState;

pub async fn authenticate(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = presented_key(req.headers()).ok_or_else(|| {
        ApiError::unauthorized("send an API key as `Authorization: Bearer <key>`")
    })?;
    let principal = state
        .keys
        .verify(&state.store, presented)
        .await
        .map_err(|r| match r {
            KeyRejection::Malformed => ApiError::unauthorized("the API key is malformed"),
            KeyRejection::Unknown => ApiError::unauthorized("the API key is not valid"),
            KeyRejection::Revoked => ApiError::unauthorized("the API key has been revoked"),
            KeyRejection::Store(e) => ApiError::from(e),
        })?;
    req.extensions_mut().insert(Caller(principal));
    Ok(next.run(req).await)
}

fn presented_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The authenticated caller, put in place by [`authenticate`].
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("this route needs an API key"))
    }
}
