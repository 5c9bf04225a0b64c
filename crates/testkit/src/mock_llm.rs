//! A mock LLM provider speaking the OpenAI and Anthropic wire formats, for the LLM gateway's
//! tests and benchmarks (the only mock in Sentinel's suites: real providers cost money and are
//! not reachable from CI).
//!
//! Endpoints: `POST /v1/chat/completions` (JSON or SSE, honouring
//! `stream_options.include_usage`), `POST /v1/embeddings`, `GET /v1/models`, `POST /v1/messages`
//! (Anthropic, JSON or its SSE event sequence), and `GET /_mock/requests` (the bodies received,
//! newest last, so tests can see exactly what a provider was sent).
//!
//! Knobs: [`MockOptions`] (latency before the first byte, delay between stream chunks,
//! characters per chunk, a required API key) and the requested model's name:
//! - `error-500`, `error-429` answer with that status (429 with `retry-after: 1`);
//! - `slow` waits 10 s before answering (for timeouts);
//! - `leaky` answers with text holding a GitHub token (for output scanning);
//! - `toolcall` proposes a `delete_database` tool call;
//! - anything else answers `Hello from <model>! You said: <last user message>`.
//!
//! ```no_run
//! # async fn demo() {
//! let mock = sentinel_testkit::mock_llm::MockLlm::start(Default::default()).await;
//! println!("OPENAI_BASE_URL={}/v1", mock.base_url);
//! # }
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// How the mock behaves for every request.
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// Wait before the first byte of every answer.
    pub latency: Duration,
    /// Wait between two chunks of a stream.
    pub chunk_delay: Duration,
    /// Characters of text per stream chunk.
    pub chunk_chars: usize,
    /// When set, requests must present this key (`Authorization: Bearer` or `x-api-key`).
    pub api_key: Option<String>,
    /// Keep the bodies received (for `/_mock/requests`); off for benchmarks.
    pub record: bool,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            latency: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            chunk_chars: 8,
            api_key: None,
            record: true,
        }
    }
}

/// The text `leaky` answers with: a GitHub token that output scanning must catch.
pub const LEAKED_TOKEN: &str = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d";

struct Mock {
    options: MockOptions,
    requests: Mutex<Vec<Value>>,
}

/// A running mock on a loopback port.
pub struct MockLlm {
    /// `http://127.0.0.1:PORT` (the OpenAI base URL is this plus `/v1`).
    pub base_url: String,
    pub addr: SocketAddr,
    mock: Arc<Mock>,
}

impl MockLlm {
    /// Starts a mock on a free loopback port, serving until the runtime ends.
    pub async fn start(options: MockOptions) -> MockLlm {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        Self::serve_on(listener, options)
    }

    /// Serves on `listener` in a background task.
    pub fn serve_on(listener: tokio::net::TcpListener, options: MockOptions) -> MockLlm {
        let addr = listener.local_addr().expect("a bound listener");
        let mock = Arc::new(Mock {
            options,
            requests: Mutex::new(Vec::new()),
        });
        let app = router(mock.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        MockLlm {
            base_url: format!("http://{addr}"),
            addr,
            mock,
        }
    }

    /// The bodies received so far, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.mock.requests.lock().unwrap().clone()
    }
}

/// The mock's routes, for serving it any way a caller likes.
pub fn router_with(options: MockOptions) -> Router {
    router(Arc::new(Mock {
        options,
        requests: Mutex::new(Vec::new()),
    }))
}

fn router(mock: Arc<Mock>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models))
        .route("/v1/messages", post(messages))
        .route("/_mock/requests", get(recorded))
        .with_state(mock)
}

async fn recorded(State(mock): State<Arc<Mock>>) -> Json<Value> {
    Json(Value::Array(mock.requests.lock().unwrap().clone()))
}

async fn models() -> Json<Value> {
    Json(json!({"object": "list", "data": [
        {"id": "mock-small", "object": "model", "created": 0, "owned_by": "mock"},
        {"id": "mock-large", "object": "model", "created": 0, "owned_by": "mock"}
    ]}))
}

/// Checks the key, records the body and applies the latency and the model-name knobs. `Err`
/// is the answer to send instead of a normal one.
async fn admit(
    mock: &Mock,
    headers: &HeaderMap,
    body: &Value,
    anthropic: bool,
) -> Result<(), Response> {
    if mock.options.record {
        mock.requests.lock().unwrap().push(body.clone());
    }
    if let Some(want) = &mock.options.api_key {
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let x_api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
        if bearer != Some(want) && x_api_key != Some(want) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "invalid api key",
                anthropic,
            ));
        }
    }
    if !mock.options.latency.is_zero() {
        tokio::time::sleep(mock.options.latency).await;
    }
    match body["model"].as_str().unwrap_or_default() {
        "error-500" => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the mock failed on purpose",
            anthropic,
        )),
        "error-429" => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "slow down", anthropic);
            r.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            Err(r)
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn error(status: StatusCode, message: &str, anthropic: bool) -> Response {
    let body = if anthropic {
        json!({"type": "error", "error": {"type": "api_error", "message": message}})
    } else {
        json!({"error": {"message": message, "type": "mock_error", "code": status.as_u16()}})
    };
    (status, Json(body)).into_response()
}

/// The text of a message's `content`: a string, or the text parts of an array.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// What the mock answers, and the token counts it reports (a token is four characters).
fn reply(body: &Value) -> (String, u64, u64) {
    let model = body["model"].as_str().unwrap_or("mock");
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let prompt_chars: usize = messages
        .iter()
        .map(|m| text_of(&m["content"]).len())
        .sum::<usize>()
        + text_of(&body["system"]).len();
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| text_of(&m["content"]))
        .unwrap_or_default();
    let text = match model {
        "leaky" => format!("Sure, the deploy token is {LEAKED_TOKEN} and it never expires."),
        _ => format!("Hello from {model}! You said: {last_user}"),
    };
    let prompt = (prompt_chars as u64).div_ceil(4).max(1);
    let completion = (text.len() as u64).div_ceil(4).max(1);
    (text, prompt, completion)
}

fn chunks(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// An SSE response fed by a task that sends `events` with `delay` between them.
fn sse(events: Vec<String>, delay: Duration) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        for (i, e) in events.into_iter().enumerate() {
            if i > 0 && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if tx.send(Bytes::from(e)).await.is_err() {
                return; // the client went away
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

async fn chat(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = admit(&mock, &headers, &body, false).await {
        return r;
    }
    let model = body["model"].as_str().unwrap_or("mock").to_string();
    let (text, prompt, completion) = reply(&body);
    let usage = json!({"prompt_tokens": prompt, "completion_tokens": completion,
        "total_tokens": prompt + completion});
    let id = "chatcmpl-mock";
    let tool_calls = (model == "toolcall").then(|| {
        json!([{"id": "call_1", "type": "function",
            "function": {"name": "delete_database", "arguments": "{\"name\":\"prod\"}"}}])
    });
    if body["stream"] != json!(true) {
        let mut message = json!({"role": "assistant", "content": text});
        let mut finish = "stop";
        if let Some(calls) = tool_calls {
            message["tool_calls"] = calls;
            finish = "tool_calls";
        }
        return Json(json!({
            "id": id, "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage,
        }))
        .into_response();
    }
    let chunk = |delta: Value, finish: Value| {
        let c = json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {c}\n\n")
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in chunks(&text, mock.options.chunk_chars) {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    let finish = match tool_calls {
        Some(calls) => {
            events.push(chunk(json!({"tool_calls": calls}), Value::Null));
            "tool_calls"
        }
        None => "stop",
    };
    events.push(chunk(json!({}), json!(finish)));
    if body["stream_options"]["include_usage"] == json!(true) {
        let c = json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [], "usage": usage});
        events.push(format!("data: {c}\n\n"));
    }
    events.push("data: [DONE]\n\n".into());
    sse(events, mock.options.chunk_delay)
}

async fn embeddings(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = admit(&mock, &headers, &body, false).await {
        return r;
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| text_of(&json!([{"text": i}])))
            .collect(),
        _ => vec![],
    };
    let tokens: u64 = inputs
        .iter()
        .map(|s| (s.len() as u64).div_ceil(4).max(1))
        .sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let seed = s.len() as f64;
            json!({"object": "embedding", "index": i,
                "embedding": [seed / 100.0, 0.5, -0.25, (i as f64) / 10.0]})
        })
        .collect();
    Json(
        json!({"object": "list", "data": data, "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
    )
    .into_response()
}

async fn messages(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = admit(&mock, &headers, &body, true).await {
        return r;
    }
    let model = body["model"].as_str().unwrap_or("mock").to_string();
    let (text, prompt, completion) = reply(&body);
    let id = "msg_mock";
    if body["stream"] != json!(true) {
        return Json(json!({
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": prompt, "output_tokens": completion},
        }))
        .into_response();
    }
    let event = |kind: &str, data: Value| format!("event: {kind}\ndata: {data}\n\n");
    let mut events = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": prompt, "output_tokens": 1}}}),
        ),
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        ),
    ];
    for piece in chunks(&text, mock.options.chunk_chars) {
        events.push(event(
            "content_block_delta",
            json!({"type": "content_block_delta",
            "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    events.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(event(
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": null},
        "usage": {"output_tokens": completion}}),
    ));
    events.push(event("message_stop", json!({"type": "message_stop"})));
    sse(events, mock.options.chunk_delay)
}
