//! Assembling the service: routes, middleware, fallbacks, and the listener with graceful
//! shutdown.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::{middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::problem::ApiError;
use crate::{AppState, Config};

static OPENAPI: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();

/// The OpenAPI document, built once from the same routers that serve requests.
pub fn openapi_document() -> &'static utoipa::openapi::OpenApi {
    OPENAPI.get_or_init(|| {
        let (_, doc) = OpenApiRouter::<AppState>::with_openapi(crate::openapi::ApiDoc::openapi())
            .merge(crate::routes::authenticated())
            .merge(crate::routes::public())
            .split_for_parts();
        doc
    })
}

/// The whole HTTP service.
pub fn app(state: AppState) -> Router {
    crate::metrics::recorder();
    let request_id = HeaderName::from_static("x-request-id");
    let (authenticated, _) = crate::routes::authenticated().split_for_parts();
    let authenticated = crate::routes::mcp_servers::mount(authenticated, &state);
    let authenticated = authenticated.route_layer(middleware::from_fn_with_state(
        state.clone(),
        crate::auth::authenticate,
    ));
    let (public, _) = crate::routes::public().split_for_parts();
    let mut router = Router::new().merge(public);
    if state.config.metrics_public {
        router = router.route("/metrics", axum::routing::get(crate::metrics::render));
    }
    router
        .merge(authenticated)
        .fallback(crate::console::fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method",
            )
        })
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::internal(
                "an internal error occurred; it has been logged",
            ))
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish (up to 30 s).
pub async fn serve(
    config: Config,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(listen = %listener.local_addr()?, "sentinel is serving");
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let streams = state.stopping.clone();
    // No Nagle: a response written in pieces (headers, an SSE event, the end of a chunked
    // body) must not wait for the client's delayed ACK, which costs ~40 ms per response on a
    // kept-alive connection (measured with the MCP benchmark; see docs/benchmarks.md).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(listener, app(state)).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        streams.send_replace(true);
        let _ = stopping_tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    tokio::select! {
        result = server => result??,
        _ = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        } => tracing::warn!("in-flight requests did not finish within 30 s; stopping anyway"),
    }
    Ok(())
}
