//! Turning an LLM request into the pipeline's [`Action`] (kind `llm_request`), and applying the
//! decision's redactions to the request before it is forwarded.
//!
//! What policy sees as `input.action.arguments`:
//! ```json
//! {"endpoint": "chat", "model": "gpt-4o-mini", "stream": false, "max_tokens": 256,
//!  "messages": [{"role": "user", "content": "…text…"}], "system": "…", "tools": ["get_weather"]}
//! ```
//! Message contents are flattened to text (the text parts of multi-part contents), so scan
//! findings point at `$.arguments.messages[N].content` with N the message's index in the request.

use sentinel_core::{Action, ActionContext, ActionKind, Target};
use sentinel_guard::{Detector, Direction, Guard, RedactMode, ScanOptions};
use serde_json::{json, Value};

use crate::upstream::Endpoint;

/// The text of a message's `content`: a string, or the text parts of an array.
pub fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

pub fn build(endpoint: Endpoint, body: &Value, model: &str, session: Option<String>) -> Action {
    let mut args = json!({
        "endpoint": endpoint.as_str(),
        "model": model,
        "stream": body["stream"] == json!(true),
    });
    let max_tokens = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64);
    if let Some(n) = max_tokens {
        args["max_tokens"] = json!(n);
    }
    if let Some(messages) = body["messages"].as_array() {
        args["messages"] = Value::Array(
            messages
                .iter()
                .map(|m| json!({"role": m["role"], "content": text_of(&m["content"])}))
                .collect(),
        );
    }
    if !body["system"].is_null() {
        args["system"] = json!(text_of(&body["system"]));
    }
    if let Some(tools) = body["tools"].as_array() {
        let names: Vec<&Value> = tools
            .iter()
            .map(|t| {
                t.pointer("/function/name")
                    .or_else(|| t.get("name"))
                    .unwrap_or(&Value::Null)
            })
            .collect();
        args["tools"] = json!(names);
    }
    match &body["input"] {
        Value::Null => {}
        Value::String(s) => args["input"] = json!([s]),
        other => args["input"] = other.clone(),
    }
    Action {
        tenant: None,
        agent: None,
        session,
        kind: ActionKind::LlmRequest,
        target: Target {
            tool: model.to_string(),
            server: Some("llm".into()),
        },
        arguments: args,
        context: ActionContext::default(),
    }
}

/// Masks the secrets and PII in the parts of `body` that the decision's `redact` paths name
/// (`$.arguments.messages[N]…`, `$.arguments.system`, `$.arguments.input…`). Returns how many
/// values were masked.
pub fn redact(guard: &Guard, body: &mut Value, paths: &[String]) -> usize {
    let opts =
        ScanOptions::new(Direction::Input).with_detectors(vec![Detector::Secrets, Detector::Pii]);
    let mut masked = 0;
    let mut mask = |v: &mut Value| {
        let mut one = |s: &mut String| {
            let report = guard.scan(s, &opts);
            if !report.findings.is_empty() {
                *s = guard.redact(s, &report.findings, RedactMode::Mask, &[]);
                masked += report.findings.len();
            }
        };
        match v {
            Value::String(s) => one(s),
            Value::Array(parts) => {
                for p in parts {
                    match p {
                        Value::String(s) => one(s),
                        other => {
                            if let Some(Value::String(s)) = other.get_mut("text") {
                                one(s)
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    };
    let mut seen = std::collections::HashSet::new();
    for path in paths {
        let Some(rest) = path.strip_prefix("$.arguments.") else {
            continue;
        };
        let target = if let Some(idx) = rest.strip_prefix("messages[") {
            let Some(n) = idx.split(']').next().and_then(|n| n.parse::<usize>().ok()) else {
                continue;
            };
            format!("/messages/{n}/content")
        } else if rest.starts_with("system") {
            "/system".into()
        } else if rest.starts_with("input") {
            "/input".into()
        } else {
            continue;
        };
        if seen.insert(target.clone()) {
            if let Some(v) = body.pointer_mut(&target) {
                mask(v);
            }
        }
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_masks_only_the_named_messages() {
        let guard = Guard::builtin();
        let secret = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d";
        let mut body = json!({"messages": [
            {"role": "system", "content": format!("internal {secret}")},
            {"role": "user", "content": [{"type": "text", "text": format!("my token is {secret}")}]},
        ]});
        let n = redact(
            &guard,
            &mut body,
            &["$.arguments.messages[1].content".into()],
        );
        assert_eq!(n, 1);
        let text = body.to_string();
        assert!(text.contains("my token is [REDACTED:"), "{text}");
        assert!(
            text.contains(&format!("internal {secret}")),
            "message 0 was not named"
        );
    }

    #[test]
    fn the_action_flattens_messages_and_names_tools() {
        let body = json!({"model": "m", "max_tokens": 9, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
            "tools": [{"type": "function", "function": {"name": "get_weather"}}]});
        let a = build(Endpoint::Chat, &body, "m", None);
        assert_eq!(a.arguments["messages"][0]["content"], "a\nb");
        assert_eq!(a.arguments["tools"], json!(["get_weather"]));
        assert_eq!(a.arguments["max_tokens"], 9);
        assert_eq!(a.target.server.as_deref(), Some("llm"));
    }
}
