//! Notification targets (webhooks) and the log of their deliveries.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// The event itself, as JSON (the same envelope `/v1/events` streams).
    Generic,
    /// A Slack incoming-webhook message (`text` and `blocks`) with a link to the console.
    Slack,
}

/// Where a tenant's events are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub url: String,
    pub format: WebhookFormat,
    /// Event types sent (`approval.requested`, `kill.activated`, …); `*` for all.
    pub events: Vec<String>,
    pub active: bool,
    /// How many times the signing secret was rotated: the secret is derived from the webhook's
    /// id and this number, never stored.
    #[serde(default)]
    pub secret_version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Webhook {
    pub fn wants(&self, event_type: &str) -> bool {
        self.active && self.events.iter().any(|e| e == "*" || e == event_type)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Delivered,
    /// Gave up after the last retry.
    Failed,
}

/// One event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub tenant_id: Uuid,
    pub event_id: String,
    pub event_type: String,
    /// The exact body sent (and signed).
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// HTTP status of the last attempt, when it got an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
}
