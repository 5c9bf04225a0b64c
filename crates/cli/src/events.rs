//! `sentinel events tail`: follows the live event stream (SSE), one line per event, and
//! reconnects with `Last-Event-ID` when the connection drops, so nothing the server still holds
//! is missed.

use std::time::Duration;

use clap::{Args, Subcommand};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::client::{enc, problem, Client, ClientArgs};
use crate::sse::{SseEvent, SseParser};

const TAIL_HELP: &str = "\
Examples:
  sentinel events tail                                   # everything this key may see
  sentinel events tail -t acme --types approval.requested,kill.activated
  sentinel events tail --json | jq .data                 # one JSON event per line

Event types: decision.made, approval.requested, approval.voted, approval.decided,
approval.expired, approval.cancelled, approval.grant_used, kill.activated, kill.restored,
policy.activated. A `stream.gap` line means some events were missed (the server restarted or
the client was away too long): re-read state with the other commands.";

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Follow live events as they happen
    Tail(TailArgs),
}

/// Follow the live event stream: decisions, approvals, kill switches, policy activations.
#[derive(Args, Debug)]
#[command(after_help = TAIL_HELP)]
pub struct TailArgs {
    /// Only this tenant (admin keys; other keys always get their own tenant)
    #[arg(long, short)]
    tenant: Option<String>,
    /// Comma-separated event types to show (default: all)
    #[arg(long)]
    types: Option<String>,
    /// Print each event as one line of JSON
    #[arg(long)]
    json: bool,
    /// Start after this event id (replays what the server still holds since then)
    #[arg(long)]
    after: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn events(cmd: EventsCommand) -> anyhow::Result<()> {
    match cmd {
        EventsCommand::Tail(args) => tail(args).await,
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

async fn tail(args: TailArgs) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let json = args.json || c.json;
    let path = stream_path(args.tenant.as_deref(), args.types.as_deref());
    let mut last = args.after;
    let mut backoff = Duration::from_secs(1);
    loop {
        let mut req = c.request(Method::GET, &path);
        if let Some(id) = &last {
            req = req.header("Last-Event-ID", id);
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                backoff = Duration::from_secs(1);
                let reason = follow(resp, &mut last, json).await;
                eprintln!("disconnected ({reason}); reconnecting");
            }
            // Only an unavailable server is worth waiting for; a bad key or filter is not.
            Ok(resp) if !is_transient(resp.status()) => return Err(problem(resp).await),
            Ok(resp) => eprintln!(
                "{}; retrying in {}s",
                problem(resp).await,
                backoff.as_secs()
            ),
            Err(_) => eprintln!("{}; retrying in {}s", c.unreachable(), backoff.as_secs()),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn stream_path(tenant: Option<&str>, types: Option<&str>) -> String {
    let query: Vec<String> = [("tenant", tenant), ("types", types)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", enc(v))))
        .collect();
    if query.is_empty() {
        "/v1/events".into()
    } else {
        format!("/v1/events?{}", query.join("&"))
    }
}

fn is_transient(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// Prints events until the stream ends; returns why it ended.
async fn follow(mut resp: reqwest::Response, last: &mut Option<String>, json: bool) -> String {
    let mut parser = SseParser::default();
    loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => {
                for event in parser.push(&bytes) {
                    if let Some(id) = &event.id {
                        *last = Some(id.clone());
                    }
                    println!(
                        "{}",
                        if json {
                            event.data.clone()
                        } else {
                            line(&event)
                        }
                    );
                }
            }
            Ok(None) => return "the server closed the stream".into(),
            Err(e) => return e.to_string(),
        }
    }
}

/// One human-readable line: time, type, and what matters for that type.
fn line(event: &SseEvent) -> String {
    let e: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    let d = &e["data"];
    let s = |key: &str| match &d[key] {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let what = match event.event.as_str() {
        "decision.made" => {
            let mut w = format!("{}  {}  {}", s("agent"), s("tool"), s("outcome"));
            if let Some(id) = d["approval_id"].as_str() {
                w.push_str(&format!("  approval {id}"));
            }
            w
        }
        t if t.starts_with("approval.") => {
            format!(
                "{}  {}  {}  approval {}",
                s("agent"),
                s("tool"),
                s("status"),
                s("id")
            )
        }
        "kill.activated" | "kill.restored" => {
            format!("{} {}  {}", s("scope"), s("target"), s("reason"))
        }
        "policy.activated" => format!("{}  {}", s("bundle"), s("revision")),
        "stream.gap" => "events were missed here: re-read state with the other commands".into(),
        _ => d.to_string(),
    };
    let time = e["time"].as_str().unwrap_or("-");
    format!("{time}  {:<20}  {what}", event.event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, data: Value) -> SseEvent {
        SseEvent {
            id: Some("a-1".into()),
            event: kind.into(),
            data: serde_json::json!({"type": kind, "time": "2025-01-02T03:04:05Z", "data": data})
                .to_string(),
        }
    }

    #[test]
    fn lines_show_what_matters_for_each_type() {
        let l = line(&event(
            "decision.made",
            serde_json::json!({"agent": "sre-bot", "tool": "rollback", "outcome": "approval_required", "approval_id": "0192"}),
        ));
        assert_eq!(
            l,
            "2025-01-02T03:04:05Z  decision.made         sre-bot  rollback  approval_required  approval 0192"
        );
        let l = line(&event(
            "approval.requested",
            serde_json::json!({"id": "0192", "agent": "sre-bot", "tool": "rollback", "status": "pending"}),
        ));
        assert!(
            l.ends_with("sre-bot  rollback  pending  approval 0192"),
            "{l}"
        );
        let l = line(&event(
            "kill.activated",
            serde_json::json!({"scope": "agent", "target": "sre-bot", "reason": "loop"}),
        ));
        assert!(l.ends_with("agent sre-bot  loop"), "{l}");
    }

    #[test]
    fn filters_go_into_the_query() {
        assert_eq!(stream_path(None, None), "/v1/events");
        assert_eq!(
            stream_path(Some("acme"), Some("kill.activated,kill.restored")),
            "/v1/events?tenant=acme&types=kill.activated%2Ckill.restored"
        );
    }
}
