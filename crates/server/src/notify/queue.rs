//! From events to deliveries: reads every event on the bus (through a [`Feed`] that sees
//! everything) and queues one delivery per active webhook of the event's tenant that wants its
//! type.

use std::sync::Arc;

use futures_util::FutureExt;
use sentinel_core::Delivery;

use super::Notifier;
use crate::stream::{Feed, Item};

/// Most deliveries stored in one transaction.
const BATCH: usize = 256;

pub async fn run(notifier: Arc<Notifier>, mut feed: Feed) {
    while let Some(first) = feed.next().await {
        let mut batch = vec![];
        notifier.route(first, &mut batch).await;
        // Whatever else is already waiting goes into the same transaction.
        while batch.len() < BATCH {
            match feed.next().now_or_never() {
                Some(Some(item)) => notifier.route(item, &mut batch).await,
                _ => break,
            }
        }
        if let Err(e) = notifier.enqueue(&batch).await {
            metrics::counter!("sentinel_webhook_events_dropped_total")
                .increment(batch.len() as u64);
            tracing::error!(error = %e, deliveries = batch.len(), "could not queue webhook deliveries");
        }
    }
}

impl Notifier {
    /// Adds the deliveries `item` needs to `batch`.
    async fn route(&self, item: Item, batch: &mut Vec<Delivery>) {
        let event = match item {
            Item::Event(e) => e,
            Item::Gap { .. } => {
                metrics::counter!("sentinel_webhook_events_dropped_total").increment(1);
                tracing::warn!(
                    "the webhook notifier fell behind the event bus; some events were not sent"
                );
                return;
            }
        };
        let Some(tenant) = event.tenant_id else {
            return;
        };
        match self.hooks.of(self.store.as_ref(), tenant).await {
            Ok(hooks) => batch.extend(
                hooks
                    .iter()
                    .filter(|h| h.wants(event.kind))
                    .map(|h| self.delivery(h, &event)),
            ),
            Err(e) => {
                metrics::counter!("sentinel_webhook_events_dropped_total").increment(1);
                tracing::error!(error = %e, event = %event.id, "could not read webhooks; event not sent");
            }
        }
    }
}
