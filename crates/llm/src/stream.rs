//! Relaying a provider's stream to the client: every event passes the output filter (a small
//! held-back window, see [`crate::output`]), usage is read from the stream (and the usage chunk
//! the gateway asked for is dropped when the client did not ask for it), and a kill switch in
//! scope or a blocked output ends the stream with an error event.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::config::OutputAction;
use crate::gateway::{Ctx, Gateway};
use crate::output::OutputFilter;
use crate::sse::{SseEvent, SseSplitter};
use crate::upstream::{Answer, Endpoint};

/// How often a stream whose provider is quiet checks the kill switch.
const KILL_CHECK: Duration = Duration::from_millis(50);

pub(crate) fn relay(
    gw: Arc<Gateway>,
    ctx: Ctx,
    answer: Answer,
    client_wants_usage: bool,
) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(32);
    tokio::spawn(pump(gw, ctx, answer, client_wants_usage, tx));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(body))
        .expect("a valid response")
}

/// Why a stream ended early.
struct Cut {
    code: &'static str,
    message: String,
}

struct Relay {
    endpoint: Endpoint,
    filters: Vec<OutputFilter>,
    gw: Arc<Gateway>,
    client_wants_usage: bool,
    prompt: u64,
    completion: u64,
    redacted: usize,
}

impl Relay {
    fn filter(&mut self, index: usize) -> &mut OutputFilter {
        while self.filters.len() <= index {
            self.filters.push(OutputFilter::new(
                self.gw.guard.clone(),
                self.gw.config.output_window_chars,
                self.gw.config.output_action == OutputAction::Stop,
            ));
        }
        &mut self.filters[index]
    }

    fn blocked(rule: String) -> Cut {
        Cut {
            code: "output_blocked",
            message: format!("the model's answer held a secret ({rule}) and was stopped"),
        }
    }

    /// One OpenAI chunk: the text it releases, or nothing to send.
    fn openai(&mut self, e: &SseEvent) -> Result<Option<String>, Cut> {
        if e.data.trim() == "[DONE]" {
            return Ok(Some("data: [DONE]\n\n".into()));
        }
        let Ok(mut v) = serde_json::from_str::<Value>(&e.data) else {
            return Ok(Some(format!("data: {}\n\n", e.data)));
        };
        if v["usage"].is_object() {
            self.prompt = v["usage"]["prompt_tokens"].as_u64().unwrap_or(0);
            self.completion = v["usage"]["completion_tokens"].as_u64().unwrap_or(0);
            if !self.client_wants_usage {
                if v["choices"].as_array().is_none_or(|c| c.is_empty()) {
                    return Ok(None);
                }
                if let Some(o) = v.as_object_mut() {
                    o.remove("usage");
                }
            }
        }
        let count = v["choices"].as_array().map_or(0, |c| c.len());
        for i in 0..count {
            let choice = &mut v["choices"][i];
            let index = choice["index"].as_u64().unwrap_or(i as u64) as usize;
            let finished = !choice["finish_reason"].is_null();
            let text = choice["delta"]["content"].as_str().map(String::from);
            let filter = self.filter(index);
            let mut out = match &text {
                Some(t) => filter.push(t).map_err(|s| Relay::blocked(s.rule))?,
                None => String::new(),
            };
            if finished {
                out.push_str(&filter.finish().map_err(|s| Relay::blocked(s.rule))?);
            }
            if text.is_some() || !out.is_empty() {
                v["choices"][i]["delta"]["content"] = Value::String(out);
            }
        }
        self.redacted = self.filters.iter().map(|f| f.redacted.len()).sum();
        Ok(Some(format!("data: {v}\n\n")))
    }

    /// One Anthropic event.
    fn anthropic(&mut self, e: &SseEvent) -> Result<Option<String>, Cut> {
        let name = e.event.clone().unwrap_or_default();
        let Ok(mut v) = serde_json::from_str::<Value>(&e.data) else {
            return Ok(Some(format!("event: {name}\ndata: {}\n\n", e.data)));
        };
        let index = v["index"].as_u64().unwrap_or(0) as usize;
        let mut prefix = String::new();
        match v["type"].as_str().unwrap_or_default() {
            "message_start" => {
                self.prompt = v["message"]["usage"]["input_tokens"].as_u64().unwrap_or(0);
            }
            "message_delta" => {
                self.completion = v["usage"]["output_tokens"]
                    .as_u64()
                    .unwrap_or(self.completion);
            }
            "content_block_delta" => {
                if let Some(t) = v["delta"]["text"].as_str().map(String::from) {
                    let out = self
                        .filter(index)
                        .push(&t)
                        .map_err(|s| Relay::blocked(s.rule))?;
                    v["delta"]["text"] = Value::String(out);
                }
            }
            "content_block_stop" => {
                let rest = self
                    .filter(index)
                    .finish()
                    .map_err(|s| Relay::blocked(s.rule))?;
                if !rest.is_empty() {
                    let d = json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": rest}});
                    prefix = format!("event: content_block_delta\ndata: {d}\n\n");
                }
            }
            _ => {}
        }
        self.redacted = self.filters.iter().map(|f| f.redacted.len()).sum();
        Ok(Some(format!("{prefix}event: {name}\ndata: {v}\n\n")))
    }

    fn error_event(&self, cut: &Cut) -> String {
        match self.endpoint {
            Endpoint::Messages => {
                let d =
                    json!({"type": "error", "error": {"type": cut.code, "message": cut.message}});
                format!("event: error\ndata: {d}\n\n")
            }
            _ => {
                let d = json!({"error": {"message": cut.message, "type": "sentinel", "code": cut.code}});
                format!("data: {d}\n\n")
            }
        }
    }
}

async fn pump(
    gw: Arc<Gateway>,
    ctx: Ctx,
    answer: Answer,
    client_wants_usage: bool,
    tx: mpsc::Sender<Bytes>,
) {
    let deployment = answer.deployment.clone();
    let status = answer.response.status().as_u16();
    let mut upstream = answer.response.bytes_stream();
    let mut splitter = SseSplitter::default();
    let mut relay = Relay {
        endpoint: ctx.endpoint,
        filters: Vec::new(),
        gw: gw.clone(),
        client_wants_usage,
        prompt: 0,
        completion: 0,
        redacted: 0,
    };
    let mut tick = tokio::time::interval(KILL_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cut: Option<Cut> = None;
    'stream: loop {
        tokio::select! {
            chunk = upstream.next() => match chunk {
                Some(Ok(bytes)) => {
                    if let Some(reason) = gw.killed(&ctx) {
                        cut = Some(Cut { code: "killed", message: format!("a kill switch ended this stream: {reason}") });
                        break 'stream;
                    }
                    for e in splitter.push(&bytes) {
                        let out = match ctx.endpoint {
                            Endpoint::Messages => relay.anthropic(&e),
                            _ => relay.openai(&e),
                        };
                        match out {
                            Ok(Some(text)) => {
                                if tx.send(Bytes::from(text)).await.is_err() {
                                    break 'stream; // the client went away
                                }
                            }
                            Ok(None) => {}
                            Err(c) => {
                                cut = Some(c);
                                break 'stream;
                            }
                        }
                    }
                }
                Some(Err(e)) => {
                    cut = Some(Cut { code: "upstream_failed", message: format!("the provider's stream broke: {e}") });
                    break 'stream;
                }
                None => break 'stream,
            },
            _ = tick.tick() => {
                if let Some(reason) = gw.killed(&ctx) {
                    cut = Some(Cut { code: "killed", message: format!("a kill switch ended this stream: {reason}") });
                    break 'stream;
                }
            }
        }
    }
    if let Some(c) = &cut {
        metrics::counter!("sentinel_llm_streams_cut_total", "reason" => c.code).increment(1);
        let _ = tx.send(Bytes::from(relay.error_event(c))).await;
    }
    if relay.redacted > 0 {
        metrics::counter!("sentinel_llm_redactions_total", "direction" => "output")
            .increment(relay.redacted as u64);
    }
    gw.record(
        &ctx,
        &deployment.name,
        Some(&deployment),
        relay.prompt,
        relay.completion,
        status,
        false,
    );
}
