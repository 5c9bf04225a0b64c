//! Sentinel's shared vocabulary.
//!
//! Every other crate speaks in these types: the registry records (tenants, agents, tools, API
//! keys), the roles that decide who may do what, and the pagination shape of list endpoints.
//! Nothing here does I/O, so the types can be used by the store, the pipeline, the server and the
//! CLI alike.
//!
//! ```
//! use sentinel_core::{Role, Permission};
//! assert!(Role::Operator.allows(Permission::Kill));
//! assert!(!Role::Auditor.allows(Permission::Manage));
//! ```

pub mod action;
pub mod approval;
pub mod control;
pub mod ids;
pub mod llm;
pub mod mcp;
pub mod notify;
pub mod page;
pub mod registry;
pub mod roles;
pub mod secret;
pub mod validate;

pub use action::{
    Action, ActionContext, ActionKind, AuditRef, Decision, Obligations, Outcome, PolicyRef,
    Provenance, QuotaState, Target,
};
pub use approval::{Approval, ApprovalStatus, ApprovalVote};
pub use control::{DecisionRecord, Kill, KillScope, PolicyActivation, PolicyRevision};
pub use ids::new_id;
pub use llm::{LlmUsage, UsagePeriod, UsageQuery, UsageRow};
pub use mcp::{McpServer, McpServerPatch, McpTransport, NewMcpServer, PinStatus, ToolPin};
pub use notify::{Delivery, DeliveryStatus, Webhook, WebhookFormat};
pub use page::{Page, PageRequest};
pub use registry::*;
pub use roles::{Permission, Principal, Role};
pub use secret::{SealedSecret, SecretMeta, SecretValue};
