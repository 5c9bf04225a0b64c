//! Request extractors that turn every kind of bad input into a precise problem: a wrong content
//! type, a body that is too large or not JSON, unknown fields, wrong types, bad query strings
//! and path parameters.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{header, request::Parts, StatusCode};
use sentinel_core::validate::Validate;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// A JSON body, deserialized strictly and then validated.
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(e.status(), "body_too_large", e.body_text())
                } else {
                    ApiError::bad_request("unreadable_body", e.body_text())
                }
            })?;
        let value = parse_json::<T>(&bytes)?;
        value.validate()?;
        Ok(ValidJson(value))
    }
}

/// Deserializes `bytes` as `T`, naming the path of the first field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let code = if inner.is_syntax() || inner.is_eof() {
            "malformed_json"
        } else {
            "invalid_body"
        };
        ApiError::bad_request(code, inner.to_string()).with_field(field)
    })
}

/// Query parameters, with a problem instead of axum's plain-text rejection.
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ValidQuery(v))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// Path parameters, with a problem instead of axum's plain-text rejection.
pub struct ValidPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ValidPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ValidPath(v))
            .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))
    }
}

/// Standard list parameters: `limit` (1–500, default 50) and an opaque `cursor`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn to_request(&self) -> Result<sentinel_core::PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(sentinel_core::page::DEFAULT_LIMIT);
        if limit == 0 || limit > sentinel_core::page::MAX_LIMIT {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "limit must be between 1 and {}",
                    sentinel_core::page::MAX_LIMIT
                ),
            )
            .with_field("limit"));
        }
        let after = match &self.cursor {
            None => None,
            Some(c) => Some(c.parse().map_err(|_| {
                ApiError::bad_request("invalid_query", "cursor is not one this server issued")
                    .with_field("cursor")
            })?),
        };
        Ok(sentinel_core::PageRequest { limit, after })
    }
}
