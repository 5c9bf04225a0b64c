//! What the LLM gateway records per request, and the usage report built from it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One LLM request that reached a provider (or the cache), with its reported usage and cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmUsage {
    pub id: uuid::Uuid,
    pub tenant_id: uuid::Uuid,
    pub agent: String,
    /// The model the client asked for (an alias).
    pub model: String,
    /// The deployment that answered (`cache` for cache hits).
    pub deployment: String,
    /// `chat`, `messages` or `embeddings`.
    pub endpoint: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Cost in millionths of a US dollar (integers add exactly).
    pub cost_micros: u64,
    /// The provider's HTTP status (0 when no answer came).
    pub status: u16,
    pub latency_ms: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// The time bucket of a usage report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UsagePeriod {
    Hour,
    Day,
}

impl UsagePeriod {
    pub fn millis(self) -> i64 {
        match self {
            UsagePeriod::Hour => 3_600_000,
            UsagePeriod::Day => 86_400_000,
        }
    }
}

/// What a usage report sums over and splits by.
#[derive(Debug, Clone)]
pub struct UsageQuery {
    pub period: UsagePeriod,
    pub by_agent: bool,
    pub by_model: bool,
    /// Only agent with this name.
    pub agent: Option<String>,
    pub since: time::OffsetDateTime,
    pub until: time::OffsetDateTime,
}

/// One row of a usage report: one time bucket, one agent and one model (`*` when the report
/// is not split by them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UsageRow {
    /// Start of the bucket, RFC 3339 UTC.
    pub bucket: String,
    pub agent: String,
    pub model: String,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
}
