//! The delivery loop: picks due deliveries, POSTs each signed body, and records the attempt —
//! delivered on any 2xx, otherwise retried after an exponential backoff until the attempts
//! run out.
//!
//! A slow or dead receiver must not hold up the others: attempts run concurrently (at most
//! [`CONCURRENCY`], and [`PER_WEBHOOK`] for one webhook), each bounded by [`TIMEOUT`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use sentinel_core::{Delivery, DeliveryStatus, Webhook};
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::{sign, Notifier};

pub const CONCURRENCY: usize = 32;
pub const PER_WEBHOOK: usize = 4;
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Due deliveries read per poll.
const BATCH: u32 = 256;
/// Longest sleep between polls: retries that come due are found at most this late.
const MAX_POLL: Duration = Duration::from_secs(1);
/// How long a node holds a delivery it is attempting before another node may take it over:
/// well past one attempt's [`TIMEOUT`].
const LEASE: Duration = Duration::from_secs(60);
/// Longest `last_error` kept, in characters.
const MAX_ERROR: usize = 512;

pub async fn run(notifier: Arc<Notifier>) {
    let http = reqwest::Client::builder()
        .timeout(TIMEOUT)
        // A receiver must answer itself; following redirects would let it point Sentinel at
        // another address.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client without TLS options always builds");
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let in_flight = Arc::new(Mutex::new(InFlight::default()));
    let poll = notifier
        .retry
        .base
        .clamp(Duration::from_millis(20), MAX_POLL);
    loop {
        match notifier
            .store
            .due_deliveries(sentinel_core::ids::now(), BATCH)
            .await
        {
            Ok(due) => {
                for delivery in due {
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        break;
                    };
                    if !in_flight
                        .lock()
                        .unwrap()
                        .claim(delivery.id, delivery.webhook_id)
                    {
                        continue;
                    }
                    let (notifier, http, in_flight) =
                        (notifier.clone(), http.clone(), in_flight.clone());
                    tokio::spawn(async move {
                        let (id, hook) = (delivery.id, delivery.webhook_id);
                        // Another node sharing the database may have read it too: only the
                        // one that leases it sends it.
                        let until = sentinel_core::ids::now() + LEASE;
                        match notifier
                            .store
                            .lease_delivery(id, delivery.next_attempt_at, until)
                            .await
                        {
                            Ok(true) => notifier.attempt(&http, delivery).await,
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "could not lease a webhook delivery")
                            }
                        }
                        in_flight.lock().unwrap().release(id, hook);
                        drop(slot);
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read due webhook deliveries"),
        }
        tokio::select! {
            _ = notifier.wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// Deliveries being attempted, so that a poll does not start one twice.
#[derive(Default)]
struct InFlight {
    deliveries: HashSet<Uuid>,
    per_webhook: HashMap<Uuid, usize>,
}

impl InFlight {
    fn claim(&mut self, delivery: Uuid, webhook: Uuid) -> bool {
        let busy = self.per_webhook.entry(webhook).or_default();
        if *busy >= PER_WEBHOOK || self.deliveries.contains(&delivery) {
            return false;
        }
        *busy += 1;
        self.deliveries.insert(delivery)
    }

    fn release(&mut self, delivery: Uuid, webhook: Uuid) {
        self.deliveries.remove(&delivery);
        if let Some(n) = self.per_webhook.get_mut(&webhook) {
            *n -= 1;
            if *n == 0 {
                self.per_webhook.remove(&webhook);
            }
        }
    }
}

/// Why an attempt did not deliver.
struct Failure {
    status: Option<u16>,
    error: String,
    /// Retrying cannot help.
    permanent: bool,
}

impl Notifier {
    /// One attempt at `delivery`, recorded in the store.
    async fn attempt(&self, http: &reqwest::Client, mut delivery: Delivery) {
        let hook = self
            .hooks
            .find(self.store.as_ref(), delivery.tenant_id, delivery.webhook_id)
            .await;
        let result = match &hook {
            Ok(Some(hook)) if hook.active => self.post(http, hook, &delivery).await,
            Ok(Some(_)) => Err(Failure {
                status: None,
                error: "the webhook is paused".into(),
                permanent: true,
            }),
            // Deleted: its deliveries were deleted with it.
            Ok(None) => return,
            Err(e) => {
                // Not the receiver's fault: try again at the next poll, without counting it.
                tracing::warn!(error = %e, "could not read a delivery's webhook");
                return;
            }
        };
        let now = sentinel_core::ids::now();
        delivery.attempts += 1;
        let outcome = match result {
            Ok(status) => {
                delivery.status = DeliveryStatus::Delivered;
                delivery.last_status = Some(status);
                delivery.last_error = None;
                delivery.delivered_at = Some(now);
                "delivered"
            }
            Err(failure) => {
                delivery.last_status = failure.status;
                delivery.last_error = Some(clip(failure.error));
                if failure.permanent || delivery.attempts >= self.retry.max_attempts {
                    delivery.status = DeliveryStatus::Failed;
                    "failed"
                } else {
                    delivery.next_attempt_at = now + self.retry.backoff(delivery.attempts);
                    "retry"
                }
            }
        };
        metrics::counter!("sentinel_webhook_deliveries_total", "outcome" => outcome).increment(1);
        if outcome == "failed" {
            tracing::warn!(delivery = %delivery.id, webhook = %delivery.webhook_id,
                attempts = delivery.attempts, error = ?delivery.last_error, "webhook delivery failed");
        }
        if let Err(e) = self.store.update_delivery(&delivery).await {
            tracing::error!(error = %e, delivery = %delivery.id, "could not record a delivery attempt");
        }
    }

    async fn post(
        &self,
        http: &reqwest::Client,
        hook: &Webhook,
        delivery: &Delivery,
    ) -> Result<u16, Failure> {
        let timestamp = sentinel_core::ids::now().unix_timestamp();
        let signature = sign::signature(&self.secret(hook), timestamp, &delivery.body);
        let sent = http
            .post(&hook.url)
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("Sentinel-Webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header("Sentinel-Event", &delivery.event_type)
            .header("Sentinel-Delivery", delivery.id.to_string())
            .header("Sentinel-Signature", signature)
            .body(delivery.body.clone())
            .send()
            .await;
        let mut response = sent.map_err(|e| Failure {
            status: None,
            error: describe(e),
            permanent: false,
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        // The start of the answer often says why (Slack: `invalid_payload`, `no_service`).
        let start = response.chunk().await.ok().flatten().unwrap_or_default();
        let said = String::from_utf8_lossy(&start);
        let error = match said.trim() {
            "" => format!("HTTP {status}"),
            said => format!("HTTP {status}: {said}"),
        };
        Err(Failure {
            status: Some(status.as_u16()),
            error,
            permanent: false,
        })
    }
}

/// A request error with its causes, without the URL (a Slack webhook URL is itself a secret).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn clip(mut s: String) -> String {
    if let Some((i, _)) = s.char_indices().nth(MAX_ERROR) {
        s.truncate(i);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_webhook_cannot_take_every_slot() {
        let (slow, other) = (Uuid::now_v7(), Uuid::now_v7());
        let mut f = InFlight::default();
        let first = Uuid::now_v7();
        assert!(f.claim(first, slow));
        assert!(!f.claim(first, slow), "a delivery runs once at a time");
        for _ in 1..PER_WEBHOOK {
            assert!(f.claim(Uuid::now_v7(), slow));
        }
        assert!(!f.claim(Uuid::now_v7(), slow));
        assert!(f.claim(Uuid::now_v7(), other));
        f.release(first, slow);
        assert!(f.claim(Uuid::now_v7(), slow));
    }
}
