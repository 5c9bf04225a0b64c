//! The admin console: the React app from `ui/`, built into `ui/dist` and embedded in the binary
//! by `build.rs`. It is served at `/` as the router's fallback, so every API route keeps its own
//! behaviour: paths that belong to the API (`/v1/…`, `/health`, `/ready`, `/metrics`,
//! `/openapi.json`) still get the JSON `404` problem when nothing matched them.
//!
//! Any other `GET` is a console route (`/approvals/{id}` is what Slack notifications link to):
//! a file from the build when one has that path, else `index.html`, which routes in the browser.
//! Hashed files under `/assets/` are cached for a year; `index.html` is revalidated every time,
//! so a new binary's console is picked up at once. A strict Content-Security-Policy allows only
//! the console's own scripts and styles and no framing.

use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;

/// `(URL path, contents)` of every file in `ui/dist`, sorted by path.
static ASSETS: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// Scripts and styles from this origin only (no inline script), API calls to this origin only,
/// and never inside a frame.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The router's fallback: a console page or file, or the API's `404` problem.
pub async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if is_api(path) || (method != Method::GET && method != Method::HEAD) {
        return ApiError::not_found("route").into_response();
    }
    if let Some(body) = asset(path) {
        let cache = if path.starts_with("/assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return file(path, body, cache);
    }
    // A missing hashed file is an error, not a page: an old tab asking for last build's script
    // must not get HTML back.
    if path.starts_with("/assets/") {
        return ApiError::not_found("file").into_response();
    }
    match asset("/index.html") {
        Some(index) => file("/index.html", index, "no-cache"),
        None => (
            StatusCode::NOT_FOUND,
            "The admin console is not built into this binary: run `npm ci && npm run build` \
             in ui/ and rebuild.\n",
        )
            .into_response(),
    }
}

/// Whether `path` is the API's: the console never answers for it.
fn is_api(path: &str) -> bool {
    path == "/v1"
        || path.starts_with("/v1/")
        || matches!(path, "/health" | "/ready" | "/metrics" | "/openapi.json")
}

fn asset(path: &str) -> Option<&'static [u8]> {
    ASSETS
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .map(|i| ASSETS[i].1)
}

fn file(path: &str, body: &'static [u8], cache: &'static str) -> Response {
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(path)),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    (StatusCode::OK, headers, body).into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_never_the_console() {
        for path in [
            "/v1",
            "/v1/nope",
            "/v1/tenants/x/nope",
            "/health",
            "/metrics",
            "/openapi.json",
        ] {
            assert!(is_api(path), "{path}");
        }
        for path in ["/", "/approvals/0193", "/audit", "/v1x", "/assets/index.js"] {
            assert!(!is_api(path), "{path}");
        }
    }

    #[test]
    fn the_asset_table_is_sorted_for_binary_search() {
        assert!(ASSETS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("/index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("/assets/index-3f2a.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("/assets/index-3f2a.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("/favicon.svg"), "image/svg+xml");
    }
}
