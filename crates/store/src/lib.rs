//! Sentinel's storage.
//!
//! [`Store`] is the one seam between Sentinel and its database. [`open`] picks the backend from a
//! URL: `sqlite://…` (the embedded default: a file in the data directory, WAL journal) or
//! `postgres://…` (for clusters). Both run the same SQL through sqlx's `Any` driver, with
//! the same portable migrations applied at start, and both pass the same test suite
//! (`tests/store_suite.rs`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sentinel_store::StoreError> {
//! let store = sentinel_store::open("sqlite:///var/lib/sentinel/sentinel.db").await?;
//! store.ping().await?;
//! # Ok(()) }
//! ```

mod audit;
mod audit_journal;
mod error;
mod filters;
mod journal_batch;
mod journaled;
mod listen;
mod open;
mod rows;
mod sql;
mod sql_approvals;
mod sql_audit;
mod sql_llm;
mod sql_mcp;
mod sql_secrets;
mod traits;

pub use audit::{AuditFilter, AuditRecord, StoredCheckpoint};
pub use error::StoreError;
pub use filters::{AgentFilter, ApprovalFilter, ToolFilter};
pub use listen::{ChangeListener, CHANNEL as CHANGE_CHANNEL};
pub use open::{open, open_with, redact_url, Dialect, StoreOptions};
pub use sql::SqlStore;
pub use traits::Store;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
