//! Sentinel's LLM gateway: agents use their Sentinel key as their API key and Sentinel's URL as
//! their `base_url`, and every call is rate-limited, budgeted, decided by the governance
//! pipeline (as an action of kind `llm_request`), scanned on the way in and out, routed with
//! retries and fallbacks, costed and recorded.
//!
//! ```text
//! request → limits (RPM/TPM) → budget → pipeline.decide (scan, policy, audit) → redact
//!         → cache? → routing (deployments, retries, fallbacks) → provider
//!         → output filter (held-back window) + kill switch → client;  usage → batch writer
//! ```
//!
//! - [`config`]: deployments, fallbacks, budgets, rate limits (the `[llm]` config section).
//! - [`routing`] and [`upstream`]: which deployment, and sending with retries.
//! - [`action`]: the request as the pipeline's `Action`, and redaction of what policy names.
//! - [`output`] and [`stream`]: output scanning across chunk boundaries.
//! - [`limits`], [`budgets`], [`usage`], [`prices`], [`cache`].
//!
//! The server mounts it (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`,
//! `/v1/messages`, `/v1/usage`); see docs/llm.md.

pub mod action;
pub mod budgets;
pub mod cache;
pub mod config;
mod error;
mod gateway;
pub mod limits;
mod meters;
pub mod output;
pub mod prices;
pub mod routing;
pub mod secrets;
pub mod sse;
mod stream;
pub mod upstream;
pub mod usage;

pub use config::LlmConfig;
pub use error::LlmError;
pub use gateway::{Client, Gateway};
pub use secrets::{NoSecrets, SecretSource, VaultKeys};
