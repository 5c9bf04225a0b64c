//! The bodies webhooks receive: the event itself (`generic`), or a Slack incoming-webhook
//! message (`slack`) with a header, the facts an approver needs, and a link to the console.

use sentinel_core::WebhookFormat;
use sentinel_pipeline::events::{kinds, Event};
use serde_json::{json, Value};

/// The body for `event` in `format`, as the exact text that is signed and sent.
pub fn body(format: WebhookFormat, event: &Event, public_url: &str) -> String {
    match format {
        WebhookFormat::Generic => serde_json::to_string(event).unwrap_or_default(),
        WebhookFormat::Slack => slack(event, public_url).to_string(),
    }
}

/// Facts shown as fields, in this order, when the event's data has them.
const FIELDS: &[(&str, &str)] = &[
    ("agent", "Agent"),
    ("tool", "Tool"),
    ("risk", "Risk"),
    ("outcome", "Outcome"),
    ("status", "Status"),
    ("scope", "Scope"),
    ("target", "Target"),
    ("reason", "Reason"),
    ("reasons", "Reasons"),
    ("revision", "Revision"),
];

/// A Slack message: `text` is the fallback for notifications, `blocks` the message itself.
pub fn slack(event: &Event, public_url: &str) -> Value {
    let data = &event.data;
    let title = title(event);
    let fields: Vec<Value> = FIELDS
        .iter()
        .filter_map(|(key, label)| {
            let value = text_of(&data[*key])?;
            Some(json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", escape(&clip(&value, 1900)))}))
        })
        .collect();
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": clip(&title, 150), "emoji": false},
    })];
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    if let Some(id) = approval_id(event) {
        blocks.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": "Review in console"},
                "url": format!("{public_url}/approvals/{id}"),
                "style": "primary",
            }],
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": escape(&format!("{} · {} · {}", event.kind, event.time, event.id))}],
    }));
    let reasons = text_of(&data["reasons"])
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    json!({"text": escape(&clip(&format!("Sentinel — {title}{reasons}"), 3000)), "blocks": blocks})
}

fn title(event: &Event) -> String {
    let d = &event.data;
    let s = |key: &str| text_of(&d[key]).unwrap_or_else(|| "?".into());
    match event.kind {
        kinds::APPROVAL_REQUESTED => format!("Approval requested: {}", s("tool")),
        kinds::APPROVAL_VOTED => format!("Approval vote: {}", s("tool")),
        kinds::APPROVAL_DECIDED => format!("Approval {}: {}", s("status"), s("tool")),
        kinds::APPROVAL_EXPIRED => format!("Approval expired: {}", s("tool")),
        kinds::APPROVAL_CANCELLED => format!("Approval cancelled: {}", s("tool")),
        kinds::APPROVAL_GRANT_USED => format!("Approved action used its grant: {}", s("tool")),
        kinds::DECISION_MADE => format!("Decision {}: {}", s("outcome"), s("tool")),
        kinds::KILL_ACTIVATED => format!("Kill switch activated: {} {}", s("scope"), s("target")),
        kinds::KILL_RESTORED => format!("Kill switch lifted: {} {}", s("scope"), s("target")),
        kinds::POLICY_ACTIVATED => format!("Policy activated: {}", s("bundle")),
        super::WEBHOOK_TEST => "Test notification from Sentinel".into(),
        other => other.to_string(),
    }
}

/// The approval an event is about: the record itself for `approval.*` events, the held
/// action's request for a decision.
fn approval_id(event: &Event) -> Option<String> {
    let key = if event.kind.starts_with("approval.") {
        "id"
    } else {
        "approval_id"
    };
    event.data[key].as_str().map(String::from)
}

/// A scalar as text, a list as `a; b`; `None` for absent, null and empty values.
fn text_of(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) => v.to_string(),
        Value::Array(items) => items
            .iter()
            .filter_map(text_of)
            .collect::<Vec<_>>()
            .join("; "),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// Slack reads `<…>` as links and mentions (`<!channel>`): names from agents must not ping.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max_chars - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval_requested() -> Event {
        Event {
            id: "a-7".into(),
            kind: kinds::APPROVAL_REQUESTED,
            time: "2025-01-02T03:04:05Z".into(),
            tenant_id: None,
            agent_id: None,
            data: json!({
                "id": "0192", "agent": "sre-bot", "tool": "rollback_deployment", "risk": "critical",
                "status": "pending", "reasons": ["rollback needs a human", "<!channel> & more"],
            })
            .into(),
        }
    }

    #[test]
    fn slack_messages_have_a_header_the_facts_and_a_review_link() {
        let m = slack(&approval_requested(), "https://sentinel.example.com");
        assert!(m["text"].as_str().unwrap().contains("rollback_deployment"));
        let blocks = m["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            blocks[0]["text"]["text"],
            "Approval requested: rollback_deployment"
        );
        let fields = blocks[1]["fields"].to_string();
        for fact in ["sre-bot", "critical", "rollback needs a human"] {
            assert!(fields.contains(fact), "{fields}");
        }
        assert!(
            !m.to_string().contains("<!channel>"),
            "mentions are escaped"
        );
        assert_eq!(
            blocks[2]["elements"][0]["url"],
            "https://sentinel.example.com/approvals/0192"
        );
    }

    #[test]
    fn events_without_an_approval_have_no_button() {
        let mut e = approval_requested();
        e.kind = kinds::KILL_ACTIVATED;
        e.data = json!({"scope": "agent", "target": "sre-bot", "reason": "loop"}).into();
        let m = slack(&e, "http://x");
        assert_eq!(
            m["blocks"][0]["text"]["text"],
            "Kill switch activated: agent sre-bot"
        );
        assert!(!m.to_string().contains("Review in console"));
    }

    #[test]
    fn generic_bodies_are_the_event_itself() {
        let e = approval_requested();
        let v: Value = serde_json::from_str(&body(WebhookFormat::Generic, &e, "")).unwrap();
        assert_eq!(v["type"], "approval.requested");
        assert_eq!(v["id"], "a-7");
        assert_eq!(v["data"]["tool"], "rollback_deployment");
    }
}
