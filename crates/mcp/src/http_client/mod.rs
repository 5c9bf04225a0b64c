//! The HTTP side of streamable-HTTP MCP: rmcp's `StreamableHttpClient` contract over the
//! workspace's reqwest 0.12 (rmcp's own client is reqwest 0.13, a second HTTP and TLS stack).
//!
//! TLS is rustls with the system's trust store, plus an optional private CA per upstream.
//! Redirects are followed only when they keep origin, method and body (same-origin 307/308):
//! anything else would replay the session id and credential headers to another host, or turn
//! a JSON-RPC POST into a bodyless GET. Waiting for response headers (and for a JSON body) is
//! bounded; an SSE body is not, since a stream may idle for as long as the session lives.
//!
//! - this file: the client, its TLS roots, timeouts and redirect policy, errors;
//! - `contract.rs`: rmcp's `StreamableHttpClient` — POST, GET (SSE) and DELETE, and what each
//!   status and content type means;
//! - `sse.rs`: SSE bodies with a bound on the size of one event.

mod contract;
mod sse;

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use futures_util::stream::TryStreamExt;
use http::header::ACCEPT;
use http::{HeaderName, HeaderValue, StatusCode};
use rmcp::transport::common::http_header::{HEADER_LAST_EVENT_ID, HEADER_SESSION_ID};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpError,
};
use rmcp::transport::StreamableHttpClientTransport;

/// Same-origin 307/308 hops followed for one request.
const MAX_REDIRECTS: usize = 5;

type Result<T> = std::result::Result<T, StreamableHttpError<HttpError>>;

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

/// Reads at most `max` bytes of a body (the length header may refuse it before reading).
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

#[cfg(test)]
mod tests {
    use super::*;

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
