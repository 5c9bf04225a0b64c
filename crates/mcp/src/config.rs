//! The gateway's settings (the `[mcp]` table of `sentinel.toml`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpConfig {
    /// How long a `tools/call` that policy holds for approval waits for an operator before it
    /// returns an `isError` result naming the approval (the agent may call again later).
    pub approval_wait_seconds: u64,
    /// Time limit for one upstream call.
    pub call_timeout_seconds: u64,
    /// How long a request waits for an upstream that is still starting.
    pub connect_timeout_seconds: u64,
    /// Longest wait between restarts of an upstream that keeps failing (the wait doubles from
    /// one second up to this).
    pub max_backoff_seconds: u64,
    /// `Host` values the streamable-HTTP endpoint accepts; empty accepts any (every request
    /// needs an agent key anyway, which is what DNS-rebinding protection is for).
    pub allowed_hosts: Vec<String>,
}

impl Default for McpConfig {
    fn default() -> Self {
        McpConfig {
            approval_wait_seconds: 30,
            call_timeout_seconds: 60,
            connect_timeout_seconds: 15,
            max_backoff_seconds: 30,
            allowed_hosts: Vec::new(),
        }
    }
}

impl McpConfig {
    pub fn approval_wait(&self) -> Duration {
        Duration::from_secs(self.approval_wait_seconds)
    }
    pub fn call_timeout(&self) -> Duration {
        Duration::from_secs(self.call_timeout_seconds)
    }
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_seconds)
    }
}
