//! The live event stream: `GET /v1/events` (Server-Sent Events) and `GET /v1/events/ws`
//! (WebSocket). Both carry the same events, filtered by the caller's role
//! ([`Audience`](crate::stream::Audience)), resumable after a disconnect, with heartbeats so
//! that proxies keep idle streams open.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use sentinel_core::Principal;
use sentinel_pipeline::events::kinds;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Caller;
use crate::extract::ValidQuery;
use crate::problem::{ApiError, ApiResult};
use crate::stream::{feed::GAP, Audience, Feed, Item};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(event_stream))
        .routes(routes!(event_socket))
}

const DEFAULT_HEARTBEAT: u64 = 15;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Comma-separated event types to receive, e.g. `approval.requested,kill.activated`
    /// (default: all).
    types: Option<String>,
    /// Tenant slug or id. Admins get one tenant's events with it and every tenant's without;
    /// other keys always get their own tenant's.
    tenant: Option<String>,
    /// Resume after this event id, for clients that cannot send `Last-Event-ID` (browser
    /// WebSockets). The header wins when both are sent.
    last_event_id: Option<String>,
    /// Seconds between heartbeats, 1-60 (default 15).
    heartbeat: Option<u64>,
}

/// Stream live events as Server-Sent Events.
///
/// Each event has `id:` (pass it back as `Last-Event-ID` to resume), `event:` (its type) and
/// `data:` (the event as JSON). After a resume whose id is no longer held, a `stream.gap` event
/// comes first: re-read state through the API. Comments (`: heartbeat`) keep the connection
/// alive. Admins see every tenant; operators and auditors their tenant; agent keys their own
/// agent's events and their tenant's kill switches.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    security(("api_key" = [])),
    responses((status = 200, description = "An endless `text/event-stream`; each `data:` is one event",
        content_type = "text/event-stream", body = sentinel_pipeline::Event)))]
async fn event_stream(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    ValidQuery(query): ValidQuery<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<sse::Event, Infallible>>>> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let subscriber = Subscriber::open(&state, &caller, query, resume).await?;
    let keep_alive = KeepAlive::new()
        .interval(subscriber.heartbeat)
        .text("heartbeat");
    let events = futures_util::stream::unfold(subscriber, |mut s| async move {
        let item = s.next().await?;
        Some((Ok(sse_event(&item)), s))
    });
    Ok(Sse::new(events).keep_alive(keep_alive))
}

/// Stream live events over a WebSocket.
///
/// One JSON text message per event (the same JSON as the SSE `data:`), a `stream.gap` message
/// when a resume cannot be complete, and a ping frame every `heartbeat` seconds. Resume with
/// the `last_event_id` query parameter. Messages from the client are ignored.
#[utoipa::path(get, path = "/v1/events/ws", tag = "events", params(StreamQuery),
    security(("api_key" = [])),
    responses((status = 101, description = "Switching Protocols: one JSON text message per event")))]
async fn event_socket(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidQuery(query): ValidQuery<StreamQuery>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade
        .map_err(|e| ApiError::new(e.status(), "websocket_upgrade_required", e.body_text()))?;
    let subscriber = Subscriber::open(&state, &caller, query, None).await?;
    Ok(upgrade
        .on_upgrade(move |socket| pump(socket, subscriber))
        .into_response())
}

/// One client's feed, ended when the server shuts down (a stream never finishes on its own,
/// and graceful shutdown waits for open responses) or when the key that opened it is revoked
/// or deleted: a stream outlives its request, so its credential is re-checked every
/// [`KEY_RECHECK`], the key cache's lifetime.
struct Subscriber {
    feed: Feed,
    heartbeat: Duration,
    stopping: tokio::sync::watch::Receiver<bool>,
    key_id: uuid::Uuid,
    store: std::sync::Arc<dyn sentinel_store::Store>,
    recheck: tokio::time::Interval,
}

const KEY_RECHECK: Duration = crate::auth::KEY_TTL;

impl Subscriber {
    async fn open(
        state: &AppState,
        caller: &Principal,
        query: StreamQuery,
        header_resume: Option<String>,
    ) -> ApiResult<Subscriber> {
        let types = query.types.as_deref().map(parse_types).transpose()?;
        let heartbeat = query.heartbeat.unwrap_or(DEFAULT_HEARTBEAT);
        if !(1..=60).contains(&heartbeat) {
            return Err(
                ApiError::bad_request("invalid_query", "heartbeat is 1 to 60 seconds")
                    .with_field("heartbeat"),
            );
        }
        let asked = match &query.tenant {
            None => None,
            Some(name) => match state.store.tenant(name).await? {
                Some(t) => Some(t.id),
                None => return Err(ApiError::not_found(format!("tenant {name:?}"))),
            },
        };
        let audience = Audience::of(caller, asked, types).ok_or_else(|| {
            ApiError::not_found(format!("tenant {:?}", query.tenant.unwrap_or_default()))
        })?;
        let resume = header_resume.or(query.last_event_id);
        Ok(Subscriber {
            feed: Feed::open(state.pipeline.events.clone(), audience, resume.as_deref()),
            heartbeat: Duration::from_secs(heartbeat),
            stopping: state.stopping.subscribe(),
            key_id: caller.key_id,
            store: state.store.clone(),
            recheck: tokio::time::interval_at(
                tokio::time::Instant::now() + KEY_RECHECK,
                KEY_RECHECK,
            ),
        })
    }

    async fn next(&mut self) -> Option<Item> {
        loop {
            tokio::select! {
                item = self.feed.next() => return item,
                _ = self.stopping.wait_for(|stopping| *stopping) => return None,
                _ = self.recheck.tick() => {}
            }
            if !self.key_still_valid().await {
                return None;
            }
        }
    }

    /// Whether the stream's key still exists and is not revoked. A store that cannot answer
    /// ends the stream too (fail closed): the client reconnects and resumes where it was.
    async fn key_still_valid(&self) -> bool {
        match self.store.api_key(self.key_id).await {
            Ok(Some(key)) if key.revoked_at.is_none() => true,
            Ok(_) => {
                tracing::info!(key_id = %self.key_id, "event stream closed: its key was revoked");
                false
            }
            Err(e) => {
                tracing::warn!(key_id = %self.key_id, error = %e, "event stream closed: cannot re-check its key");
                false
            }
        }
    }
}

/// `types=a,b` as the known type names; a 400 naming the field for anything else.
fn parse_types(list: &str) -> ApiResult<Vec<&'static str>> {
    list.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            kinds::ALL.iter().copied().find(|k| *k == t).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("unknown event type {t:?}; known: {}", kinds::ALL.join(", ")),
                )
                .with_field("types")
            })
        })
        .collect()
}

fn sse_event(item: &Item) -> sse::Event {
    let frame = sse::Event::default().data(item.to_json());
    match item {
        Item::Event(e) => frame.id(&e.id).event(e.kind),
        Item::Gap { .. } => frame.event(GAP),
    }
}

/// Sends the feed down the socket until either side ends, with a ping every heartbeat.
async fn pump(mut socket: WebSocket, mut subscriber: Subscriber) {
    let mut beat = tokio::time::interval(subscriber.heartbeat);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    beat.tick().await;
    loop {
        let sent = tokio::select! {
            item = subscriber.next() => match item {
                Some(item) => socket.send(Message::Text(item.to_json().into())).await,
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            _ = beat.tick() => socket.send(Message::Ping(Default::default())).await,
            received = socket.recv() => match received {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => Ok(()),
            },
        };
        if sent.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_lists_accept_known_names_only() {
        assert_eq!(
            parse_types("approval.requested, kill.activated,").unwrap(),
            vec![kinds::APPROVAL_REQUESTED, kinds::KILL_ACTIVATED]
        );
        let e = parse_types("approval.requested,nope").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("types"));
        assert!(e.detail.contains("\"nope\""));
    }
}
