//! The server's one typed configuration. The CLI fills it from `sentinel.toml`, `SENTINEL_*`
//! environment variables and flags, in that order of precedence (flags win).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where Sentinel keeps its files: the SQLite database, keys.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; defaults to `sentinel.db` in the data directory.
    pub database_url: Option<String>,
    /// A tracing filter, e.g. `info` or `sentinel_server=debug,info`.
    pub log_level: String,
    pub log_format: LogFormat,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Serve `/metrics` without a key (for scrapers inside a trusted network).
    pub metrics_public: bool,
    /// Time limit for one policy evaluation; past it the action is denied.
    pub policy_timeout_ms: u64,
    /// `auto` (the default: regorus's bytecode VM for bundles that provably cannot produce
    /// conflicting values, the interpreter for the rest), `interpreter` (always OPA's
    /// semantics) or `vm` (the VM whenever its compiler accepts the bundle, where a conflicting
    /// rule resolves silently instead of denying; see docs/policies.md).
    pub policy_evaluator: sentinel_policy::Evaluator,
    /// On the bytecode VM, run a `deny` or `approval` rule whose body opens with tests of the
    /// input (`input.action.target.tool == "x"`) only for inputs that pass them, as OPA's rule
    /// index does (docs/policies.md). Off: every rule runs for every action.
    pub policy_rule_index: bool,
    /// The audit log's name: the first line of every checkpoint and the key name in its
    /// signature. Fixed when the signing key is created on first start.
    pub audit_origin: String,
    /// Answer a decision only once its audit entry is durable.
    pub audit_strict: bool,
    /// On SQLite: make audit batches durable in a journal beside the database (one write and
    /// one `fdatasync`) and apply them to the tables behind it, instead of waiting for each
    /// SQLite commit's own fsync. Ignored on PostgreSQL.
    pub audit_journal: bool,
    /// How long a held action waits for an operator before it expires (policy can say
    /// otherwise per tool).
    pub approval_ttl_seconds: u64,
    /// How long an approved grant stays usable.
    pub grant_ttl_seconds: u64,
    /// The URL people reach Sentinel's console at, for links in notifications; defaults to
    /// `http://` + `listen`.
    pub public_url: Option<String>,
    /// Attempts per webhook delivery before it is marked failed.
    pub webhook_max_attempts: u32,
    /// Wait before the first retry of a webhook delivery; it doubles with each retry.
    pub webhook_backoff_ms: u64,
    /// The MCP gateway (`[mcp]`): approval wait, upstream timeouts.
    pub mcp: sentinel_mcp::McpConfig,
    /// How often this node re-reads kills and active policies that other nodes sharing its
    /// database changed. On PostgreSQL, change notices (`NOTIFY`) apply them at once; the poll
    /// covers notices lost to a dropped connection.
    pub cluster_sync_ms: u64,
    /// The LLM gateway: deployments, fallbacks, budgets, rate limits, cache (docs/llm.md).
    pub llm: sentinel_llm::LlmConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            data_dir: PathBuf::from("sentinel-data"),
            database_url: None,
            log_level: "info".into(),
            log_format: LogFormat::Json,
            max_body_bytes: 1024 * 1024,
            metrics_public: false,
            policy_timeout_ms: 100,
            policy_evaluator: sentinel_policy::Evaluator::Auto,
            policy_rule_index: true,
            audit_origin: "sentinel.local/audit".into(),
            audit_strict: true,
            audit_journal: true,
            approval_ttl_seconds: 15 * 60,
            grant_ttl_seconds: 10 * 60,
            public_url: None,
            webhook_max_attempts: 8,
            webhook_backoff_ms: 1000,
            mcp: sentinel_mcp::McpConfig::default(),
            cluster_sync_ms: 1000,
            llm: Default::default(),
        }
    }
}

impl Config {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("sentinel.db").display()))
    }

    pub fn admin_key_path(&self) -> PathBuf {
        self.data_dir.join("admin.key")
    }

    /// [`Config::public_url`], or the listen address when unset (an unspecified address such as
    /// `0.0.0.0` becomes `127.0.0.1`, which at least works on this machine). No trailing slash.
    pub fn public_url(&self) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_string();
        }
        let mut addr = self.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_defaults_to_a_reachable_listen_address() {
        let mut c = Config::default();
        assert_eq!(c.public_url(), "http://127.0.0.1:8787");
        c.listen = "0.0.0.0:9000".parse().unwrap();
        assert_eq!(c.public_url(), "http://127.0.0.1:9000");
        c.public_url = Some("https://sentinel.example.com/".into());
        assert_eq!(c.public_url(), "https://sentinel.example.com");
    }
}
