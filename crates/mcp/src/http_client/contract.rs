//! rmcp's `StreamableHttpClient` contract over [`HttpClient`]: a JSON-RPC message POSTed (the
//! answer: 202, one JSON message, or an SSE stream), the session's GET event stream, and the
//! DELETE that ends a session — with the session id, protocol-version and auth headers, and
//! rmcp's error kinds for each status (auth challenges, expired session, rate limit, 5xx).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorData, ServerJsonRpcMessage};
use rmcp::transport::common::http_header::{
    EVENT_STREAM_MIME_TYPE, HEADER_LAST_EVENT_ID, HEADER_SESSION_ID, JSON_MIME_TYPE,
};
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, HttpStatusError, InsufficientScopeError, StreamableHttpClient,
    StreamableHttpError, StreamableHttpPostResponse,
};

use super::sse::{sse_events, SseEvents};
use super::{failure, HttpClient, HttpError, Result};

/// A JSON response (one JSON-RPC message) larger than this is refused.
const MAX_JSON_BODY: usize = 16 * 1024 * 1024;
/// Of an error response, this much is read (for a JSON-RPC error or a message to show).
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Of an error body, this much ends up in the error message.
const ERROR_PREVIEW: usize = 256;
/// One SSE event larger than this is refused (rmcp's default too).
const MAX_SSE_EVENT: usize = 16 * 1024 * 1024;

fn redirect_refused(status: StatusCode) -> StreamableHttpError<HttpError> {
    failure(format!(
        "HTTP {status}: the endpoint redirects elsewhere (another origin, or with a method \
         change), which is not followed so that credentials stay with the registered host; \
         register the final URL"
    ))
}

fn content_type(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn has_type(content_type: Option<&str>, mime: &str) -> bool {
    content_type.is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with(mime))
}

/// 401/403 with a challenge become rmcp's auth errors (the client may act on them).
fn auth_challenge(response: &reqwest::Response) -> Result<()> {
    let status = response.status();
    if !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return Ok(());
    }
    let Some(header) = response.headers().get(WWW_AUTHENTICATE) else {
        return Ok(());
    };
    let header = header
        .to_str()
        .map_err(|_| failure("invalid www-authenticate header"))?
        .to_string();
    if status == StatusCode::UNAUTHORIZED {
        Err(StreamableHttpError::AuthRequired(AuthRequiredError::new(
            header,
        )))
    } else {
        let scope = challenge_scope(&header);
        Err(StreamableHttpError::InsufficientScope(
            InsufficientScopeError::new(header, scope),
        ))
    }
}

/// The `scope` parameter of a `WWW-Authenticate` challenge, quoted or not.
fn challenge_scope(header: &str) -> Option<String> {
    let at = header.to_ascii_lowercase().find("scope=")? + "scope=".len();
    let rest = &header[at..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => &quoted[..quoted.find('"')?],
        None => rest.split([',', ' ']).next().unwrap_or_default(),
    };
    (!value.is_empty()).then(|| value.to_string())
}

/// Rate limits and server errors keep their status and `Retry-After` (no body).
fn status_error(response: &reqwest::Response) -> Option<HttpStatusError> {
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
        return None;
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Some(HttpStatusError::new(status.as_u16(), retry_after))
}

fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(ERROR_PREVIEW);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].trim() {
        "" => "<empty body>".into(),
        t => t.to_string(),
    }
}

/// Whether the message expects a JSON-RPC answer (notifications and replies do not).
fn is_request(message: &ClientJsonRpcMessage) -> bool {
    matches!(message, ClientJsonRpcMessage::Request(_))
}

/// A server that predates `server/discover` may refuse it at the HTTP level; answered as a
/// JSON-RPC error with the request's id, rmcp falls back to `initialize`.
fn discover_refused(
    message: &ClientJsonRpcMessage,
    session_attached: bool,
    status: StatusCode,
    body: &[u8],
) -> Option<StreamableHttpPostResponse> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    if session_attached
        || !status.is_client_error()
        || matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        || !matches!(request.request, ClientRequest::DiscoverRequest(_))
    {
        return None;
    }
    let error = match serde_json::from_slice::<ServerJsonRpcMessage>(body) {
        Ok(ServerJsonRpcMessage::Error(e)) => e.error,
        _ => ErrorData::invalid_request(
            format!(
                "server/discover refused with HTTP {status}: {}",
                preview(body)
            ),
            None,
        ),
    };
    Some(StreamableHttpPostResponse::Json(
        ServerJsonRpcMessage::error(error, Some(request.id.clone())),
        None,
    ))
}

impl StreamableHttpClient for HttpClient {
    type Error = HttpError;

    fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<Output = Result<StreamableHttpPostResponse>> + Send + '_ {
        self.post_message_with_max_sse_event_size(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            MAX_SSE_EVENT,
        )
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse> {
        let session_attached = session_id.is_some();
        let request = self
            .request(
                reqwest::Method::POST,
                &uri,
                session_id.as_deref(),
                auth_header,
                custom_headers,
            )?
            .header(
                ACCEPT,
                format!("{JSON_MIME_TYPE}, {EVENT_STREAM_MIME_TYPE}"),
            )
            .json(&message);
        let response = self.send(request).await?;
        auth_challenge(&response)?;
        let status = response.status();
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_attached {
            return Err(StreamableHttpError::SessionExpired);
        }
        if status.is_redirection() {
            return Err(redirect_refused(status));
        }
        let kind = content_type(&response);
        let json = has_type(kind.as_deref(), JSON_MIME_TYPE);
        let session = response
            .headers()
            .get(HEADER_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);

        if !status.is_success() {
            // A 429 is only a rate limit, and a non-JSON failure has no JSON-RPC error to keep.
            let limited = match status_error(&response) {
                Some(e) if !json || status == StatusCode::TOO_MANY_REQUESTS => return Err(e.into()),
                other => other,
            };
            let body = match self.body(response, MAX_ERROR_BODY).await {
                Ok(body) => body,
                Err(e) => return Err(limited.map(Into::into).unwrap_or(e)),
            };
            if let Some(answer) = discover_refused(&message, session_attached, status, &body) {
                return Ok(answer);
            }
            let auth_failure = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            if json && !auth_failure {
                if let Ok(error @ ServerJsonRpcMessage::Error(_)) =
                    serde_json::from_slice::<ServerJsonRpcMessage>(&body)
                {
                    return Ok(StreamableHttpPostResponse::Json(error, session));
                }
            }
            return Err(match limited {
                Some(e) => e.into(),
                None => failure(format!("HTTP {status}: {}", preview(&body))),
            });
        }

        // Some servers answer a notification with an empty 200 rather than 202.
        if !is_request(&message) && (response.content_length() == Some(0) || kind.is_none()) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if has_type(kind.as_deref(), EVENT_STREAM_MIME_TYPE) {
            return Ok(StreamableHttpPostResponse::Sse(
                sse_events(response, max_sse_event_size),
                session,
            ));
        }
        if !json {
            return Err(StreamableHttpError::UnexpectedContentType(kind));
        }
        let body = self.body(response, MAX_JSON_BODY).await?;
        match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
            Ok(answer) => Ok(StreamableHttpPostResponse::Json(answer, session)),
            // Nothing waits for an answer to a notification: an odd body is harmless.
            Err(_) if !is_request(&message) => Ok(StreamableHttpPostResponse::Accepted),
            Err(e) => Err(failure(format!(
                "the response is not a JSON-RPC message ({e}): {}",
                preview(&body)
            ))),
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<()> {
        let request = self.request(
            reqwest::Method::DELETE,
            &uri,
            Some(&session_id),
            auth_header,
            custom_headers,
        )?;
        let response = self.send(request).await?;
        let status = response.status();
        // Servers need not support ending sessions; one already gone is ended too.
        if status.is_success()
            || matches!(
                status,
                StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND
            )
        {
            return Ok(());
        }
        Err(failure(format!("ending the session: HTTP {status}")))
    }

    fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<Output = Result<SseEvents>> + Send + '_ {
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            MAX_SSE_EVENT,
        )
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<SseEvents> {
        let mut request = self
            .request(
                reqwest::Method::GET,
                &uri,
                session_id.as_deref(),
                auth_header,
                custom_headers,
            )?
            .header(ACCEPT, EVENT_STREAM_MIME_TYPE);
        if let Some(id) = last_event_id {
            request = request.header(HEADER_LAST_EVENT_ID, id);
        }
        let response = self.send(request).await?;
        let status = response.status();
        if status == StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        auth_challenge(&response)?;
        if let Some(e) = status_error(&response) {
            return Err(e.into());
        }
        if status.is_redirection() {
            return Err(redirect_refused(status));
        }
        if !status.is_success() {
            return Err(failure(format!("opening the event stream: HTTP {status}")));
        }
        let kind = content_type(&response);
        if !has_type(kind.as_deref(), EVENT_STREAM_MIME_TYPE) {
            return Err(StreamableHttpError::UnexpectedContentType(kind));
        }
        Ok(sse_events(response, max_sse_event_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_read_from_challenges() {
        assert_eq!(
            challenge_scope(r#"Bearer error="insufficient_scope", scope="files:read files:write""#)
                .as_deref(),
            Some("files:read files:write")
        );
        assert_eq!(
            challenge_scope("Bearer scope=read:data, error=x").as_deref(),
            Some("read:data")
        );
        assert_eq!(challenge_scope("Bearer realm=x"), None);
    }
}
