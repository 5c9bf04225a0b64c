//! The HTTP side of streamable-HTTP MCP: rmcp's `StreamableHttpClient` contract over the
//! workspace's reqwest 0.12 (rmcp's own client is reqwest 0.13, a second HTTP and TLS stack).
//!
//! TLS is rustls with the system's trust store, plus an optional private CA per upstream.
//! Redirects are followed only when they keep origin, method and body (same-origin 307/308):
//! anything else would replay the session id and credential headers to another host, or turn
//! a JSON-RPC POST into a bodyless GET. Waiting for response headers (and for a JSON body) is
//! bounded; an SSE body is not, since a stream may idle for as long as the session lives.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorData, ServerJsonRpcMessage};
use rmcp::transport::common::http_header::{
    EVENT_STREAM_MIME_TYPE, HEADER_LAST_EVENT_ID, HEADER_SESSION_ID, JSON_MIME_TYPE,
};
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, HttpStatusError, InsufficientScopeError, SseError, StreamableHttpClient,
    StreamableHttpClientTransportConfig, StreamableHttpError, StreamableHttpPostResponse,
};
use rmcp::transport::StreamableHttpClientTransport;
use sse_stream::{Sse, SseStream};

/// A JSON response (one JSON-RPC message) larger than this is refused.
const MAX_JSON_BODY: usize = 16 * 1024 * 1024;
/// Of an error response, this much is read (for a JSON-RPC error or a message to show).
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Of an error body, this much ends up in the error message.
const ERROR_PREVIEW: usize = 256;
/// One SSE event larger than this is refused (rmcp's default too).
const MAX_SSE_EVENT: usize = 16 * 1024 * 1024;
/// Same-origin 307/308 hops followed for one request.
const MAX_REDIRECTS: usize = 5;

type Result<T> = std::result::Result<T, StreamableHttpError<HttpError>>;
type SseEvents = BoxStream<'static, std::result::Result<Sse, SseError>>;

/// How to reach one HTTP upstream.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Time limit for the TCP connection and TLS handshake.
    pub connect_timeout: Duration,
    /// Time limit for response headers, and for the body of a JSON response.
    pub response_timeout: Duration,
    /// PEM certificates trusted beside the system's roots (a private CA).
    pub ca_cert_pem: Option<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(15),
            response_timeout: Duration::from_secs(60),
            ca_cert_pem: None,
        }
    }
}

/// An HTTP client for streamable-HTTP MCP endpoints (cheap to clone: one connection pool).
#[derive(Clone)]
pub struct HttpClient {
    http: reqwest::Client,
    response_timeout: Duration,
}

/// Why an HTTP exchange failed, with the cause chain spelled out (reqwest's own message stops
/// at "error sending request"). Never holds the URL, which may carry a credential.
#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        let e = e.without_url();
        let mut parts: Vec<String> = vec![e.to_string()];
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let text = s.to_string();
            // hyper and rustls repeat their cause in their own message; keep each text once.
            if !parts.iter().any(|p| p.contains(&text)) {
                parts.push(text);
            }
            source = s.source();
        }
        let mut message = parts.join(": ");
        if let Some(hint) = certificate_hint(&message) {
            message.push_str(" (");
            message.push_str(hint);
            message.push(')');
        }
        HttpError(message)
    }
}

/// What to do about a certificate rustls does not trust. (Its other certificate errors, a
/// wrong name or an expired certificate, already say what is wrong in plain words.)
fn certificate_hint(message: &str) -> Option<&'static str> {
    // BadSignature: a CA of the issuer's name is trusted, but it is not the one that signed
    // (another CA of the same name, or one since rotated).
    let unchained = ["UnknownIssuer", "BadSignature"]
        .iter()
        .any(|e| message.contains(e));
    (message.contains("invalid peer certificate") && unchained).then_some(
        "the server's certificate is not trusted: if a private CA issued it, register that CA's \
         certificate as transport.ca_cert_pem",
    )
}

fn client_error(e: reqwest::Error) -> StreamableHttpError<HttpError> {
    StreamableHttpError::Client(e.into())
}

fn failure(message: impl Into<Cow<'static, str>>) -> StreamableHttpError<HttpError> {
    StreamableHttpError::UnexpectedServerResponse(message.into())
}

impl HttpClient {
    pub fn new(options: &HttpOptions) -> std::result::Result<HttpClient, String> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(options.connect_timeout)
            .redirect(redirect_policy())
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("sentinel-mcp/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &options.ca_cert_pem {
            for cert in ca_certificates(pem)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| format!("the HTTP client could not be built: {}", HttpError::from(e)))?;
        Ok(HttpClient {
            http,
            response_timeout: options.response_timeout,
        })
    }

    /// An rmcp transport to `url` sending `headers` with every request.
    pub fn transport(
        self,
        url: &str,
        headers: HashMap<HeaderName, HeaderValue>,
    ) -> StreamableHttpClientTransport<HttpClient> {
        let config = StreamableHttpClientTransportConfig::with_uri(url).custom_headers(headers);
        StreamableHttpClientTransport::with_client(self, config)
    }

    /// Sends `request`, waiting at most the response timeout for its headers.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        match tokio::time::timeout(self.response_timeout, request.send()).await {
            Ok(sent) => sent.map_err(client_error),
            Err(_) => Err(StreamableHttpError::Client(HttpError(format!(
                "no response within {:?}",
                self.response_timeout
            )))),
        }
    }

    /// Reads at most `max` bytes of `response`'s body, within the response timeout.
    async fn body(&self, response: reqwest::Response, max: usize) -> Result<Vec<u8>> {
        match tokio::time::timeout(self.response_timeout, bounded_body(response, max)).await {
            Ok(body) => body,
            Err(_) => Err(StreamableHttpError::Client(HttpError(format!(
                "the response body did not arrive within {:?}",
                self.response_timeout
            )))),
        }
    }

    /// A request with the headers every MCP exchange carries.
    fn request(
        &self,
        method: reqwest::Method,
        uri: &str,
        session_id: Option<&str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<reqwest::RequestBuilder> {
        let mut request = self.http.request(method, uri);
        for (name, value) in custom_headers {
            if is_reserved(&name) {
                return Err(StreamableHttpError::ReservedHeaderConflict(
                    name.to_string(),
                ));
            }
            request = request.header(name, value);
        }
        if let Some(token) = auth_header {
            request = request.bearer_auth(token);
        }
        if let Some(session) = session_id {
            request = request.header(HEADER_SESSION_ID, session);
        }
        Ok(request)
    }
}

/// Headers the transport sets itself. (`MCP-Protocol-Version` is not one: rmcp passes it among
/// the custom headers once it is negotiated.)
fn is_reserved(name: &HeaderName) -> bool {
    [ACCEPT.as_str(), HEADER_SESSION_ID, HEADER_LAST_EVENT_ID]
        .iter()
        .any(|r| name.as_str().eq_ignore_ascii_case(r))
}

/// Whether `url` is plain `http://` to a host other than this machine: its traffic, headers
/// (credentials) included, crosses the network unencrypted.
pub fn is_plaintext_remote(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    if url.scheme() != "http" {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    !host.eq_ignore_ascii_case("localhost")
        && host
            .parse::<std::net::IpAddr>()
            .map_or(true, |ip| !ip.is_loopback())
}

/// The certificates of a PEM bundle, refused when it holds none.
pub fn ca_certificates(pem: &str) -> std::result::Result<Vec<reqwest::Certificate>, String> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .map_err(|e| format!("the CA certificate is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the CA PEM holds no CERTIFICATE block".into());
    }
    Ok(certs)
}

/// Checks that `pem` is a CA bundle a client can be built with (each certificate parses).
pub fn check_ca_pem(pem: &str) -> std::result::Result<(), String> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false);
    for cert in ca_certificates(pem)? {
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map(|_| ())
        .map_err(|e| format!("the CA certificate was refused: {}", HttpError::from(e)))
}

fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let keeps_body = matches!(
            attempt.status(),
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
        );
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !keeps_body || !same_origin {
            // Handed back as the response; post_message/get_stream explain it.
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else {
            attempt.follow()
        }
    })
}

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

async fn bounded_body(response: reqwest::Response, max: usize) -> Result<Vec<u8>> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: max });
    }
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.try_next().await.map_err(client_error)? {
        if body.len() + chunk.len() > max {
            return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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

/// Why an SSE body stopped.
#[derive(Debug)]
enum SseBodyError {
    Read(HttpError),
    EventTooLarge(usize),
}

impl std::fmt::Display for SseBodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SseBodyError::Read(e) => write!(f, "{e}"),
            SseBodyError::EventTooLarge(max) => {
                write!(f, "an SSE event exceeded the maximum size of {max} bytes")
            }
        }
    }
}

impl std::error::Error for SseBodyError {}

/// Counts the bytes of the SSE event being received, so one endless event cannot grow
/// without bound before the parser sees its end (a blank line).
struct EventSize {
    max: usize,
    event: usize,
    line: usize,
    after_cr: bool,
}

impl EventSize {
    fn observe(&mut self, chunk: &[u8]) -> bool {
        for &b in chunk {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => {
                    if self.line == 0 {
                        self.event = 0;
                    } else {
                        self.event += self.line + 1;
                    }
                    self.line = 0;
                }
                _ => self.line += 1,
            }
            if self.event + self.line > self.max {
                return false;
            }
        }
        true
    }
}

/// The SSE events of `response`, each at most `max_event` bytes.
fn sse_events(response: reqwest::Response, max_event: usize) -> SseEvents {
    let mut size = EventSize {
        max: max_event,
        event: 0,
        line: 0,
        after_cr: false,
    };
    let mut failed = false;
    let bytes = response.bytes_stream().map(move |chunk| match chunk {
        Ok(chunk) if size.observe(&chunk) => Ok(chunk),
        Ok(_) => Err(SseBodyError::EventTooLarge(max_event)),
        Err(e) => Err(SseBodyError::Read(e.into())),
    });
    // Stop at the first error: the parser would otherwise go on after a gap in the stream.
    let bytes = bytes.take_while(move |item| {
        let go = !failed;
        failed |= item.is_err();
        std::future::ready(go)
    });
    SseStream::from_bytes_stream(bytes).boxed()
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
    fn event_size_counts_one_event_at_a_time() {
        let mut size = EventSize {
            max: 16,
            event: 0,
            line: 0,
            after_cr: false,
        };
        // 15 bytes and a line end: exactly the limit; each blank line starts a new event.
        assert!(size.observe(b"data: 123456789\n\n"));
        assert!(size.observe(b"data: 123456789\r\n\r\ndata: 1234\r"));
        assert!(size.observe(b"\n\r\ndata: 1\n\n"));
        assert!(!size.observe(b"data: 1234567890\n"));
    }

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

    #[test]
    fn reserved_headers_are_refused_but_the_protocol_version_passes() {
        assert!(is_reserved(&HeaderName::from_static("mcp-session-id")));
        assert!(is_reserved(&ACCEPT));
        assert!(!is_reserved(&HeaderName::from_static(
            "mcp-protocol-version"
        )));
        assert!(!is_reserved(&http::header::AUTHORIZATION));
    }

    #[test]
    fn certificate_errors_say_what_to_do() {
        let hint = certificate_hint("invalid peer certificate: UnknownIssuer").unwrap();
        assert!(hint.contains("ca_cert_pem"));
        assert!(certificate_hint("invalid peer certificate: BadSignature").is_some());
        assert_eq!(certificate_hint("connection refused"), None);
    }

    #[test]
    fn plain_http_is_remote_unless_loopback() {
        assert!(is_plaintext_remote("http://mcp.internal:8080/mcp"));
        assert!(is_plaintext_remote("http://10.0.0.5/mcp"));
        assert!(!is_plaintext_remote("http://127.0.0.1:8080/mcp"));
        assert!(!is_plaintext_remote("http://localhost/mcp"));
        assert!(!is_plaintext_remote("http://[::1]:9/mcp"));
        assert!(!is_plaintext_remote("https://mcp.example.com/mcp"));
    }

    #[test]
    fn a_ca_bundle_without_certificates_is_refused() {
        assert!(check_ca_pem("not a certificate").is_err());
        assert!(
            check_ca_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err()
        );
    }
}
