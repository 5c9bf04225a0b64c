//! The live event bus: every decision, approval transition, kill and policy activation becomes
//! a typed [`Event`] that the SSE and WebSocket endpoints stream and the webhook notifier sends.
//!
//! Events live in memory: a broadcast channel for subscribers that keep up, and a ring of the
//! most recent ones so that a client reconnecting with `Last-Event-ID` gets what it missed.
//! Ids are `<boot>-<seq>`; a resume from another process's id, or from one that has left the
//! ring, is reported as a gap (the client should re-read state through the API), never
//! silently skipped.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

use sentinel_core::{ActionKind, Decision};
use serde::{Serialize, Serializer};
use tokio::sync::broadcast;
use utoipa::ToSchema;
use uuid::Uuid;

/// How many recent events a resume can replay.
pub const REPLAY_CAPACITY: usize = 4096;

/// The event types, as they appear in `type`.
pub mod kinds {
    pub const DECISION_MADE: &str = "decision.made";
    pub const APPROVAL_REQUESTED: &str = "approval.requested";
    /// One operator answered a request that needs several approvals.
    pub const APPROVAL_VOTED: &str = "approval.voted";
    /// A request was approved or denied.
    pub const APPROVAL_DECIDED: &str = "approval.decided";
    pub const APPROVAL_EXPIRED: &str = "approval.expired";
    pub const APPROVAL_CANCELLED: &str = "approval.cancelled";
    /// An approved action was resubmitted with its grant and allowed.
    pub const APPROVAL_GRANT_USED: &str = "approval.grant_used";
    pub const KILL_ACTIVATED: &str = "kill.activated";
    pub const KILL_RESTORED: &str = "kill.restored";
    pub const POLICY_ACTIVATED: &str = "policy.activated";

    pub const ALL: &[&str] = &[
        DECISION_MADE,
        APPROVAL_REQUESTED,
        APPROVAL_VOTED,
        APPROVAL_DECIDED,
        APPROVAL_EXPIRED,
        APPROVAL_CANCELLED,
        APPROVAL_GRANT_USED,
        KILL_ACTIVATED,
        KILL_RESTORED,
        POLICY_ACTIVATED,
    ];
}

/// One thing that happened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    /// `<boot>-<seq>`: increasing within one server process; pass as `Last-Event-ID` to resume.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// RFC 3339, UTC.
    pub time: String,
    /// `None` for events that concern no tenant.
    pub tenant_id: Option<Uuid>,
    /// The agent the event concerns, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub data: EventData,
}

/// An event's `data`: JSON, read and serialised like a [`serde_json::Value`] (it dereferences to
/// one). A decision's data is kept as the decision and a few fields of its action, and turned
/// into JSON the first time something reads or sends it: most decisions are never streamed or
/// notified, and building their JSON (then dropping it when the event leaves the replay ring)
/// cost `decide()` about as much as everything else it does besides evaluating policy.
#[derive(Clone)]
pub struct EventData {
    decision: Option<Box<DecisionMade>>,
    json: OnceLock<serde_json::Value>,
}

/// The fields of a `decision.made` event, as `decide()` has them.
#[derive(Clone)]
pub(crate) struct DecisionMade {
    /// Shared with the decision log's pending record.
    pub decision: Arc<Decision>,
    pub agent: Option<String>,
    pub tool: String,
    pub server: Option<String>,
    pub session: Option<String>,
    pub kind: ActionKind,
}

impl DecisionMade {
    fn json(&self) -> serde_json::Value {
        let d = &self.decision;
        serde_json::json!({
            "decision_id": d.decision_id,
            "agent": self.agent,
            "tool": self.tool,
            "server": self.server,
            "session": self.session,
            "kind": self.kind,
            "outcome": d.outcome,
            "reasons": d.reasons,
            "risk": d.risk,
            "approval_id": d.approval_id,
            "policy": d.policy,
            "audit": d.audit,
        })
    }
}

impl EventData {
    pub(crate) fn decision(made: DecisionMade) -> EventData {
        EventData {
            decision: Some(Box::new(made)),
            json: OnceLock::new(),
        }
    }
}

impl From<serde_json::Value> for EventData {
    fn from(json: serde_json::Value) -> EventData {
        EventData {
            decision: None,
            json: OnceLock::from(json),
        }
    }
}

impl Deref for EventData {
    type Target = serde_json::Value;

    fn deref(&self) -> &serde_json::Value {
        self.json.get_or_init(|| match &self.decision {
            Some(d) => d.json(),
            None => serde_json::Value::Null,
        })
    }
}

impl Serialize for EventData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl fmt::Debug for EventData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq<serde_json::Value> for EventData {
    fn eq(&self, other: &serde_json::Value) -> bool {
        **self == *other
    }
}

/// What a new subscriber gets: the events it missed, whether some were lost, and the live feed.
pub struct Subscription {
    pub backlog: Vec<Arc<Event>>,
    /// Events after the client's `Last-Event-ID` are no longer held (or it came from another
    /// process): the client must re-read state rather than trust the stream to be complete.
    pub gap: bool,
    pub live: broadcast::Receiver<Arc<Event>>,
}

pub struct EventBus {
    boot: String,
    state: Mutex<Ring>,
    tx: broadcast::Sender<Arc<Event>>,
}

struct Ring {
    next_seq: u64,
    recent: VecDeque<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        let (tx, _) = broadcast::channel(1024);
        let boot = format!(
            "{:x}",
            sentinel_core::ids::now().unix_timestamp_nanos() / 1_000_000
        );
        EventBus {
            boot,
            state: Mutex::new(Ring {
                next_seq: 1,
                recent: VecDeque::with_capacity(REPLAY_CAPACITY),
            }),
            tx,
        }
    }

    /// Publishes an event to every subscriber. Never blocks on slow subscribers: they lag and
    /// resume from the ring.
    pub fn publish(
        &self,
        kind: &'static str,
        tenant_id: Option<Uuid>,
        agent_id: Option<Uuid>,
        data: impl Into<EventData>,
    ) -> Arc<Event> {
        let data = data.into();
        let time = sentinel_core::ids::now()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        // Sequence, ring and broadcast under one lock, so the ring's order is the live order
        // and a subscriber joining in between sees each event exactly once.
        let mut ring = self.state.lock().unwrap();
        let event = Arc::new(Event {
            id: format!("{}-{}", self.boot, ring.next_seq),
            kind,
            time,
            tenant_id,
            agent_id,
            data,
        });
        ring.next_seq += 1;
        let oldest = if ring.recent.len() == REPLAY_CAPACITY {
            ring.recent.pop_front()
        } else {
            None
        };
        ring.recent.push_back(event.clone());
        let _ = self.tx.send(event.clone());
        drop(ring);
        // Freed outside the lock: the other publishers need not wait for it.
        drop(oldest);
        event
    }

    /// Subscribes, replaying what came after `last_event_id` when given.
    pub fn subscribe(&self, last_event_id: Option<&str>) -> Subscription {
        let ring = self.state.lock().unwrap();
        let live = self.tx.subscribe();
        let Some(last) = last_event_id else {
            return Subscription {
                backlog: vec![],
                gap: false,
                live,
            };
        };
        let seq = last
            .split_once('-')
            .filter(|(boot, _)| *boot == self.boot)
            .and_then(|(_, seq)| seq.parse::<u64>().ok());
        let oldest = ring.recent.front().map_or(ring.next_seq, |e| seq_of(&e.id));
        match seq {
            // The next event the client needs is still held (or has not happened yet).
            Some(seq) if seq + 1 >= oldest => Subscription {
                backlog: ring
                    .recent
                    .iter()
                    .filter(|e| seq_of(&e.id) > seq)
                    .cloned()
                    .collect(),
                gap: false,
                live,
            },
            _ => Subscription {
                backlog: ring.recent.iter().cloned().collect(),
                gap: true,
                live,
            },
        }
    }

    /// Events held for replay after `seq_id` (used by a subscriber that fell behind the live
    /// channel). `None` when some of them have already left the ring.
    pub fn since(&self, last_event_id: &str) -> Option<Vec<Arc<Event>>> {
        let sub = self.subscribe(Some(last_event_id));
        (!sub.gap).then_some(sub.backlog)
    }
}

fn seq_of(id: &str) -> u64 {
    id.rsplit_once('-')
        .and_then(|(_, s)| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(bus: &EventBus, n: usize) -> Vec<Arc<Event>> {
        (0..n)
            .map(|i| {
                bus.publish(
                    kinds::DECISION_MADE,
                    None,
                    None,
                    serde_json::json!({"i": i}),
                )
            })
            .collect()
    }

    #[test]
    fn resume_replays_exactly_what_came_after() {
        let bus = EventBus::new();
        let sent = publish(&bus, 5);
        let sub = bus.subscribe(Some(&sent[1].id));
        assert!(!sub.gap);
        let ids: Vec<_> = sub.backlog.iter().map(|e| e.id.clone()).collect();
        assert_eq!(
            ids,
            sent[2..].iter().map(|e| e.id.clone()).collect::<Vec<_>>()
        );
        // Resuming from the newest event replays nothing and is not a gap.
        let sub = bus.subscribe(Some(&sent[4].id));
        assert!(!sub.gap && sub.backlog.is_empty());
    }

    #[test]
    fn resume_from_a_lost_or_foreign_id_is_a_gap() {
        let bus = EventBus::new();
        let sent = publish(&bus, REPLAY_CAPACITY + 10);
        assert!(bus.subscribe(Some(&sent[0].id)).gap);
        assert!(!bus.subscribe(Some(&sent[20].id)).gap);
        assert!(bus.subscribe(Some("0-3")).gap);
        assert!(bus.subscribe(Some("garbage")).gap);
    }

    /// A decision's data is the JSON `decide()` used to build on the spot: same keys, same values,
    /// same text when sent.
    #[test]
    fn decision_data_is_made_when_read_and_is_the_same_json() {
        use sentinel_core::{AuditRef, Obligations, Outcome, PolicyRef, Risk};
        let decision = Decision {
            decision_id: Uuid::now_v7(),
            outcome: Outcome::ApprovalRequired,
            reasons: vec!["rollback needs a human".into()],
            risk: Risk::Critical,
            approval_id: Some(Uuid::now_v7()),
            obligations: Obligations::default(),
            quota: None,
            policy: Some(PolicyRef {
                bundle: "acme".into(),
                revision: "r1".into(),
            }),
            audit: Some(AuditRef {
                index: 7,
                leaf_hash: "aGFzaA==".into(),
            }),
        };
        let bus = EventBus::new();
        let event = bus.publish(
            kinds::DECISION_MADE,
            None,
            None,
            EventData::decision(DecisionMade {
                decision: Arc::new(decision.clone()),
                agent: Some("sre-bot".into()),
                tool: "rollback_deployment".into(),
                server: None,
                session: Some("s-1".into()),
                kind: ActionKind::ToolCall,
            }),
        );
        assert!(event.data.json.get().is_none(), "not built until read");
        let eager = serde_json::json!({
            "decision_id": decision.decision_id,
            "agent": Some("sre-bot"),
            "tool": "rollback_deployment",
            "server": None::<String>,
            "session": Some("s-1"),
            "kind": ActionKind::ToolCall,
            "outcome": decision.outcome,
            "reasons": decision.reasons,
            "risk": decision.risk,
            "approval_id": decision.approval_id,
            "policy": decision.policy,
            "audit": decision.audit,
        });
        assert_eq!(event.data, eager);
        assert_eq!(event.data["outcome"], "approval_required");
        let sent = serde_json::to_value(&*event).unwrap();
        assert_eq!(sent["data"], eager);
        assert_eq!(
            serde_json::to_string(&event.data).unwrap(),
            eager.to_string()
        );
    }

    #[tokio::test]
    async fn live_subscribers_see_events_in_order() {
        let bus = EventBus::new();
        let mut sub = bus.subscribe(None);
        let sent = publish(&bus, 3);
        for e in &sent {
            assert_eq!(sub.live.recv().await.unwrap().id, e.id);
        }
    }
}
