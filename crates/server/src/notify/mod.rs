//! Webhook notifications: every event a tenant's webhooks want becomes a persisted
//! [`Delivery`], and a delivery loop sends it, signed, retrying with exponential backoff.
//!
//! - [`queue`]: reads the event bus and queues deliveries (in batches, one transaction each).
//! - [`worker`]: sends due deliveries with bounded concurrency and records each attempt.
//! - [`format`]: the generic and Slack bodies. [`sign`]: secrets and signatures.
//! - [`cache`]: each tenant's webhooks in memory.
//!
//! Deliveries are stored before they are sent, so a restart resumes them; receivers get each
//! event at least once and should deduplicate on `Sentinel-Delivery`.

pub mod cache;
pub mod format;
pub mod queue;
pub mod sign;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use sentinel_core::{Delivery, DeliveryStatus, Webhook};
use sentinel_pipeline::events::{Event, EventBus};
use sentinel_store::{Store, StoreError};

use crate::stream::{Audience, Feed};
use crate::Config;

/// The type of the event `POST …/webhooks/{id}/test` sends.
pub const WEBHOOK_TEST: &str = "webhook.test";

/// How deliveries are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts before a delivery is marked failed.
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubles after each further one.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub cap: Duration,
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }
}

/// The webhook notifier: started once per server, shared by the routes that change webhooks.
pub struct Notifier {
    store: Arc<dyn Store>,
    hooks: cache::WebhookCache,
    secrets_key: Arc<[u8; 32]>,
    public_url: String,
    retry: RetryPolicy,
    /// Wakes the delivery loop when new deliveries are queued.
    wake: tokio::sync::Notify,
}

impl Notifier {
    /// Starts the queueing and delivery tasks.
    pub fn start(
        store: Arc<dyn Store>,
        bus: Arc<EventBus>,
        secrets_key: Arc<[u8; 32]>,
        config: &Config,
    ) -> Arc<Notifier> {
        let notifier = Arc::new(Notifier {
            store,
            hooks: cache::WebhookCache::default(),
            secrets_key,
            public_url: config.public_url(),
            retry: RetryPolicy {
                max_attempts: config.webhook_max_attempts.max(1),
                base: Duration::from_millis(config.webhook_backoff_ms.max(1)),
                cap: Duration::from_secs(15 * 60),
            },
            wake: tokio::sync::Notify::new(),
        });
        // Subscribed here rather than in the task, so no event published after `start`
        // returns can be missed.
        let feed = Feed::open(bus, Audience::everything(), None);
        tokio::spawn(queue::run(notifier.clone(), feed));
        tokio::spawn(worker::run(notifier.clone()));
        notifier
    }

    /// The signing secret of `webhook`: shown to its creator, used to sign its requests.
    pub fn secret(&self, webhook: &Webhook) -> String {
        sign::secret(&self.secrets_key, webhook)
    }

    /// Call after a tenant's webhooks change, so the next event sees the change.
    pub fn webhooks_changed(&self, tenant: uuid::Uuid) {
        self.hooks.forget(tenant);
    }

    /// A pending delivery of `event` to `webhook`, in the webhook's format.
    pub fn delivery(&self, webhook: &Webhook, event: &Event) -> Delivery {
        let now = sentinel_core::ids::now();
        Delivery {
            id: sentinel_core::new_id(),
            webhook_id: webhook.id,
            tenant_id: webhook.tenant_id,
            event_id: event.id.clone(),
            event_type: event.kind.to_string(),
            body: format::body(webhook.format, event, &self.public_url),
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status: None,
            last_error: None,
            next_attempt_at: now,
            created_at: now,
            delivered_at: None,
        }
    }

    /// Stores deliveries and wakes the delivery loop.
    pub async fn enqueue(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.store.insert_deliveries(deliveries).await?;
        self.wake.notify_one();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(10),
        };
        let waits: Vec<u64> = (1..=6).map(|n| r.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(r.backoff(1000), Duration::from_secs(10));
    }
}
