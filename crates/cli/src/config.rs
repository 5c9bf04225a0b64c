//! Loads the server's configuration: defaults, then `sentinel.toml`, then `SENTINEL_*`
//! environment variables, then flags — each layer overriding the one before.

use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use sentinel_server::Config;

/// The environment variables that configure the server (others, such as `SENTINEL_API_KEY`,
/// belong to the client commands).
const SERVER_ENV: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "log_level",
    "log_format",
    "max_body_bytes",
    "metrics_public",
    "policy_timeout_ms",
    "policy_evaluator",
    "policy_rule_index",
    "audit_origin",
    "audit_strict",
    "audit_journal",
    "approval_ttl_seconds",
    "grant_ttl_seconds",
    "public_url",
    "webhook_max_attempts",
    "webhook_backoff_ms",
    "cluster_sync_ms",
];

pub fn load(file: Option<PathBuf>, flags: serde_json::Value) -> anyhow::Result<Config> {
    let explicit = file.is_some();
    let file = file.unwrap_or_else(|| PathBuf::from("sentinel.toml"));
    if explicit && !file.exists() {
        anyhow::bail!("config file {} does not exist", file.display());
    }
    Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::file(&file))
        .merge(Env::prefixed("SENTINEL_").only(SERVER_ENV))
        .merge(Serialized::defaults(flags))
        .extract()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
}
