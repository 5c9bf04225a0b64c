//! The governance pipeline: one `decide()` for every enforcement point.
//!
//! ```text
//! Action → identify → kill switch → registry → scan hook → policy (Rego, time-limited)
//!        → quota → Decision → decision log
//! ```
//!
//! Every step fails closed: an unknown agent, an active kill, a missing or failing policy, a
//! store error — each yields a `deny` whose reason says what happened. Enforcement points (the
//! `/v1/check` API, the MCP and LLM gateways) only translate their protocol into an
//! [`Action`](sentinel_core::Action) and back.

mod approvals;
mod audit_log;
mod cluster_sync;
mod decide;
mod decision_id;
pub mod durability;
pub mod events;
mod guard_scanner;
mod input;
mod kill_switch;
mod policies;
mod preview;
mod quotas;
mod record;
mod recorder;
mod registry_cache;
mod scan;
mod secrets;
mod simulate;

pub use approvals::{spawn_approval_expiry, ApprovalConfig, ApprovalError, Approver};
pub use audit_log::{AuditLog, NewEntry, Receipt};
pub use cluster_sync::SyncChanges;
pub use decide::{Caller, Pipeline, PipelineConfig};
pub use events::{Event, EventBus, EventData, Subscription};
pub use guard_scanner::GuardScanner;
pub use kill_switch::{KillChanges, KillSwitch};
pub use policies::{PolicySet, TenantPolicy};
pub use quotas::{QuotaBook, QuotaRule, Quotas};
pub use recorder::{DecisionRecorder, DecisionSink};
pub use scan::{ActionScanner, NoScanner, ScanFinding};
pub use secrets::{SecretError, SecretVault};
pub use simulate::{ChangedDecision, Simulation};
