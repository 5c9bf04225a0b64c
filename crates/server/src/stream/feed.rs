//! One subscriber's view of the event bus: the backlog after its `Last-Event-ID`, then live
//! events, filtered for its [`Audience`].
//!
//! The bus never blocks on a slow subscriber: one that falls more than the channel's capacity
//! behind gets `Lagged`. The feed then subscribes again from the last event it saw, so the
//! subscriber still gets every event the bus holds, and a [`Item::Gap`] only when some are
//! truly gone.

use std::collections::VecDeque;
use std::sync::Arc;

use sentinel_pipeline::events::{Event, EventBus, Subscription};
use tokio::sync::broadcast::error::RecvError;

use super::Audience;

/// The type of the event that tells a client it missed events.
pub const GAP: &str = "stream.gap";

/// What a feed yields.
#[derive(Debug, Clone)]
pub enum Item {
    Event(Arc<Event>),
    /// Events after `after` were lost: the client should re-read state through the API.
    Gap {
        after: Option<String>,
    },
}

impl Item {
    /// The JSON a client receives: the event itself, or a `stream.gap` envelope shaped like one
    /// (without an id, so that it does not move the client's resume point).
    pub fn to_json(&self) -> String {
        match self {
            Item::Event(e) => serde_json::to_string(e).unwrap_or_default(),
            Item::Gap { after } => serde_json::json!({
                "type": GAP,
                "time": sentinel_core::ids::now()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                "data": {
                    "last_event_id": after,
                    "detail": "events after last_event_id are no longer held; re-read state through the API",
                },
            })
            .to_string(),
        }
    }
}

pub struct Feed {
    bus: Arc<EventBus>,
    audience: Audience,
    queue: VecDeque<Item>,
    live: tokio::sync::broadcast::Receiver<Arc<Event>>,
    /// The newest event taken from the bus, shown or not: where a refill starts.
    last_seen: Option<String>,
}

impl Feed {
    /// Subscribes to `bus`, first replaying what came after `resume_from` when given.
    pub fn open(bus: Arc<EventBus>, audience: Audience, resume_from: Option<&str>) -> Feed {
        let Subscription { backlog, gap, live } = bus.subscribe(resume_from);
        let mut feed = Feed {
            bus,
            audience,
            queue: VecDeque::new(),
            live,
            last_seen: resume_from.map(String::from),
        };
        feed.enqueue(gap, backlog);
        feed
    }

    /// The next item for this subscriber; `None` once the bus is gone. Cancel-safe: dropping
    /// the future loses nothing.
    pub async fn next(&mut self) -> Option<Item> {
        loop {
            while let Some(item) = self.queue.pop_front() {
                if let Some(item) = self.admit(item) {
                    return Some(item);
                }
            }
            match self.live.recv().await {
                Ok(event) => {
                    if let Some(item) = self.admit(Item::Event(event)) {
                        return Some(item);
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "event subscriber lagged; refilling from the ring");
                    let Subscription { backlog, gap, live } =
                        self.bus.subscribe(self.last_seen.as_deref());
                    self.live = live;
                    // Without a resume point the refill cannot know what was missed.
                    self.enqueue(gap || self.last_seen.is_none(), backlog);
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    fn enqueue(&mut self, gap: bool, backlog: Vec<Arc<Event>>) {
        if gap {
            self.queue.push_back(Item::Gap {
                after: self.last_seen.clone(),
            });
        }
        self.queue.extend(backlog.into_iter().map(Item::Event));
    }

    fn admit(&mut self, item: Item) -> Option<Item> {
        match &item {
            Item::Event(e) => {
                self.last_seen = Some(e.id.clone());
                self.audience.sees(e).then_some(item)
            }
            Item::Gap { .. } => Some(item),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_pipeline::events::kinds;

    fn ids(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Event(e) => e.id.clone(),
                Item::Gap { .. } => "gap".into(),
            })
            .collect()
    }

    async fn take(feed: &mut Feed, n: usize) -> Vec<Item> {
        let mut out = vec![];
        for _ in 0..n {
            out.push(feed.next().await.unwrap());
        }
        out
    }

    fn publish(bus: &EventBus, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                bus.publish(kinds::DECISION_MADE, None, None, serde_json::json!({}))
                    .id
                    .clone()
            })
            .collect()
    }

    #[tokio::test]
    async fn resume_replays_the_backlog_then_goes_live() {
        let bus = Arc::new(EventBus::new());
        let sent = publish(&bus, 3);
        let mut feed = Feed::open(bus.clone(), Audience::everything(), Some(&sent[0]));
        let later = publish(&bus, 1);
        let got = take(&mut feed, 3).await;
        assert_eq!(ids(&got), [&sent[1..], &later[..]].concat());
    }

    #[tokio::test]
    async fn an_unknown_resume_point_is_a_gap_first() {
        let bus = Arc::new(EventBus::new());
        let sent = publish(&bus, 2);
        let mut feed = Feed::open(bus, Audience::everything(), Some("0-1"));
        let got = take(&mut feed, 3).await;
        assert_eq!(
            ids(&got),
            ["gap".to_string(), sent[0].clone(), sent[1].clone()]
        );
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_refilled_without_loss_or_repeats() {
        let bus = Arc::new(EventBus::new());
        let sent = publish(&bus, 2000);
        let mut feed = Feed::open(bus.clone(), Audience::everything(), Some(&sent[0]));
        // More than the broadcast channel holds while the backlog is read, fewer than the
        // replay ring keeps.
        let more = publish(&bus, 1500);
        let got = take(&mut feed, 1999 + 1500).await;
        assert_eq!(ids(&got), [&sent[1..], &more[..]].concat());
    }

    #[tokio::test]
    async fn lagging_before_the_first_event_is_a_gap() {
        let bus = Arc::new(EventBus::new());
        let mut feed = Feed::open(bus.clone(), Audience::everything(), None);
        publish(&bus, 2000);
        assert!(matches!(feed.next().await, Some(Item::Gap { after: None })));
        let next = publish(&bus, 1);
        assert_eq!(ids(&take(&mut feed, 1).await), next);
    }
}
