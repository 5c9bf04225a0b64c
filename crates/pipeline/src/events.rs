//! The live event bus: every decision, approval transition, kill and policy activation becomes
//! a typed [`Event`] that the SSE and WebSocket endpoints stream and the webhook notifier sends.
//!
//! Events live in memory: a broadcast channel for subscribers that keep up, and a ring of the
//! most recent ones so that a client reconnecting with `Last-Event-ID` gets what it missed.
//! Ids are `<boot>-<seq>`; a resume from another process's id, or from one that has left the
//! ring, is reported as a gap (the client should re-read state through the API), never
//! silently skipped.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;
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
    pub data: serde_json::Value,
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
        data: serde_json::Value,
    ) -> Arc<Event> {
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
        if ring.recent.len() == REPLAY_CAPACITY {
            ring.recent.pop_front();
        }
        ring.recent.push_back(event.clone());
        let _ = self.tx.send(event.clone());
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
