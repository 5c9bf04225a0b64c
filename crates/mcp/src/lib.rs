//! Sentinel's MCP gateway: one virtual MCP server, over a tenant's upstream MCP servers, through
//! which every tool call of every agent is governed.
//!
//! ```text
//! MCP client ──(streamable HTTP, agent key)──► McpGateway ──► upstreams (stdio | HTTP)
//!   tools/list  → the tenant's tools, namespaced `server__tool`, only those policy could allow
//!   tools/call  → Action → pipeline (scan, policy, approval, kill switch, audit)
//!               → upstream → result scanned (secrets/PII redacted, injection taints the session)
//! ```
//!
//! - [`upstream`]: one upstream, connected and supervised (restarted with backoff).
//! - [`inventory`]: discovered tools are registered and their definitions pinned ([`pin`]).
//! - [`handler`]: the server an agent sees, one per session ([`session`]).
//! - [`call`]: `tools/call` through the pipeline; [`results`]: result scanning.
//! - [`http_client`]: the streamable-HTTP client (reqwest 0.12, rustls, private CAs).
//! - [`bridge`]: `sentinel mcp stdio`, for clients that only launch a process.

pub mod bridge;
pub mod call;
mod config;
mod gateway;
pub mod handler;
pub mod http_client;
pub mod inventory;
pub mod pin;
pub mod results;
mod secrets;
pub mod session;
pub mod upstream;

pub use config::McpConfig;
pub use gateway::McpGateway;
pub use secrets::{NoSecrets, SecretExpander};
