//! The gateway's configuration: the `[llm]` section of `sentinel.toml`.
//!
//! ```toml
//! [[llm.deployments]]
//! name = "openai-main"          # unique; appears in usage rows and metrics
//! tenant = "acme"               # or "*" (every tenant, the default)
//! model = "gpt-4o-mini"         # the name clients ask for (an alias)
//! provider = "openai"           # or "anthropic"
//! base_url = "https://api.openai.com/v1"
//! upstream_model = "gpt-4o-mini-2024-07-18"
//! api_key = "${secret:OPENAI_KEY}"   # expanded from the tenant's secret store
//!
//! [llm.fallbacks]
//! "gpt-4o" = ["gpt-4o-mini"]
//!
//! [[llm.budgets]]
//! tenant = "acme"
//! agent = "*"                   # every agent separately; omit for the tenant as a whole
//! period = "day"                # or "month"
//! usd = 5.0
//!
//! [[llm.rate_limits]]
//! tenant = "acme"
//! agent = "*"
//! rpm = 60
//! tpm = 100000
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::prices::Price;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    pub deployments: Vec<Deployment>,
    /// Model name → models to try, in order, when every deployment of the first fails.
    pub fallbacks: HashMap<String, Vec<String>>,
    /// Attempts per deployment after the first, on connection errors, timeouts, 429 and 5xx.
    pub retries: u32,
    /// Wait before the first retry; doubles each time (capped at 2 s, or `retry-after`).
    pub retry_backoff_ms: u64,
    pub budgets: Vec<Budget>,
    pub rate_limits: Vec<RateLimit>,
    /// Seconds an exact-match answer stays cached; 0 turns the cache off. Only non-streaming
    /// requests are cached, per tenant, keyed by the whole request body after redaction.
    pub cache_ttl_seconds: u64,
    pub cache_max_entries: usize,
    /// Characters of a streamed answer held back so that a secret split across chunks is still
    /// caught whole. Larger catches longer secrets, and delays text by as much.
    pub output_window_chars: usize,
    /// What a secret in a model's answer does: `redact` (mask it and go on) or `stop` (end the
    /// answer with an error).
    pub output_action: OutputAction,
    /// Largest request body forwarded, in bytes.
    pub max_request_bytes: usize,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            deployments: Vec::new(),
            fallbacks: HashMap::new(),
            retries: 1,
            retry_backoff_ms: 100,
            budgets: Vec::new(),
            rate_limits: Vec::new(),
            cache_ttl_seconds: 0,
            cache_max_entries: 10_000,
            output_window_chars: 96,
            output_action: OutputAction::Redact,
            max_request_bytes: 4 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputAction {
    Redact,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Any OpenAI-compatible API: OpenAI, Azure OpenAI's v1 API, vLLM, Ollama, LM Studio, …
    Openai,
    Anthropic,
}

/// One upstream that can answer a model name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub name: String,
    /// Tenant slug, or `*` for every tenant.
    #[serde(default = "star")]
    pub tenant: String,
    /// The model name clients ask for.
    pub model: String,
    pub provider: Provider,
    /// OpenAI: the URL ending in `/v1`; Anthropic: `https://api.anthropic.com`.
    pub base_url: String,
    /// The provider's model name; defaults to `model`.
    #[serde(default)]
    pub upstream_model: Option<String>,
    /// The provider key; `${secret:NAME}` is expanded from the tenant's secret store.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Share of traffic among the deployments of the same model.
    #[serde(default = "one")]
    pub weight: u32,
    #[serde(default = "sixty_seconds")]
    pub timeout_ms: u64,
    /// Overrides the shipped price table for this deployment.
    #[serde(default)]
    pub price: Option<Price>,
}

impl Deployment {
    pub fn upstream_model(&self) -> &str {
        self.upstream_model.as_deref().unwrap_or(&self.model)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetPeriod {
    Day,
    Month,
}

/// A spending limit in US dollars per calendar period (UTC).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    #[serde(default = "star")]
    pub tenant: String,
    /// An agent name, `*` for each agent separately, or absent for the tenant as a whole.
    #[serde(default)]
    pub agent: Option<String>,
    pub period: BudgetPeriod,
    pub usd: f64,
}

/// Requests and tokens per minute.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    #[serde(default = "star")]
    pub tenant: String,
    /// An agent name, `*` for each agent separately, or absent for the tenant as a whole.
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub rpm: Option<u32>,
    #[serde(default)]
    pub tpm: Option<u32>,
}

fn star() -> String {
    "*".into()
}
fn one() -> u32 {
    1
}
fn sixty_seconds() -> u64 {
    60_000
}

/// Whether a config entry's `tenant` covers `slug`.
pub(crate) fn covers(pattern: &str, slug: &str) -> bool {
    pattern == "*" || pattern == slug
}
