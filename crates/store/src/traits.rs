//! The storage trait: everything Sentinel keeps, as one interface.

use async_trait::async_trait;
use sentinel_core::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    AgentFilter, ApprovalFilter, AuditFilter, AuditRecord, Result, StoredCheckpoint, ToolFilter,
};

/// Durable state. Implementations must be safe to share between tasks; every method is one
/// transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<()>;

    async fn insert_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// Looks a tenant up by id or slug.
    async fn tenant(&self, id_or_slug: &str) -> Result<Option<Tenant>>;
    async fn list_tenants(&self, page: PageRequest) -> Result<Page<Tenant>>;
    async fn update_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// Deletes the tenant and everything it owns.
    async fn delete_tenant(&self, id: Uuid) -> Result<bool>;

    async fn insert_agent(&self, agent: &Agent) -> Result<()>;
    /// Looks an agent up by id or name within a tenant.
    async fn agent(&self, tenant: Uuid, id_or_name: &str) -> Result<Option<Agent>>;
    async fn list_agents(
        &self,
        tenant: Uuid,
        filter: &AgentFilter,
        page: PageRequest,
    ) -> Result<Page<Agent>>;
    async fn update_agent(&self, agent: &Agent) -> Result<()>;
    async fn delete_agent(&self, tenant: Uuid, id: Uuid) -> Result<bool>;

    async fn insert_tool(&self, tool: &Tool) -> Result<()>;
    /// Looks a tool up by id or name within a tenant (the first match when several servers
    /// offer the same name; use the id to be exact).
    async fn tool(&self, tenant: Uuid, id_or_name: &str) -> Result<Option<Tool>>;
    async fn list_tools(
        &self,
        tenant: Uuid,
        filter: &ToolFilter,
        page: PageRequest,
    ) -> Result<Page<Tool>>;
    async fn update_tool(&self, tool: &Tool) -> Result<()>;
    async fn delete_tool(&self, tenant: Uuid, id: Uuid) -> Result<bool>;

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()>;
    async fn api_key(&self, id: Uuid) -> Result<Option<ApiKey>>;
    /// Keys of one tenant, or the admin keys when `tenant` is `None`.
    async fn list_api_keys(&self, tenant: Option<Uuid>, page: PageRequest) -> Result<Page<ApiKey>>;
    async fn revoke_api_key(&self, id: Uuid, at: OffsetDateTime) -> Result<bool>;
    async fn touch_api_key(&self, id: Uuid, at: OffsetDateTime) -> Result<()>;

    /// Stores a policy revision; storing the same revision again is a no-op.
    async fn put_policy_revision(&self, tenant: Uuid, revision: &PolicyRevision) -> Result<()>;
    async fn policy_revision(&self, tenant: Uuid, revision: &str)
        -> Result<Option<PolicyRevision>>;
    async fn list_policy_revisions(&self, tenant: Uuid) -> Result<Vec<PolicyRevision>>;
    async fn record_activation(&self, tenant: Uuid, activation: &PolicyActivation) -> Result<()>;
    /// Activations of one tenant, newest first.
    async fn activations(&self, tenant: Uuid) -> Result<Vec<PolicyActivation>>;
    /// The newest activation of every tenant (loaded at start).
    async fn active_revisions(&self) -> Result<Vec<(Uuid, PolicyRevision)>>;
    /// Each tenant's active revision name: cheap, for cluster nodes to notice activations.
    async fn active_revision_names(&self) -> Result<Vec<(Uuid, String)>>;
    /// Tells the other nodes sharing this database that kills or policies changed
    /// (PostgreSQL `NOTIFY`; nothing on SQLite).
    async fn announce_change(&self) -> Result<()>;
    /// Whether other nodes may write this database too (PostgreSQL): an audit entry's index is
    /// then final only once its batch has committed.
    fn shared_by_nodes(&self) -> bool;

    async fn insert_kill(&self, kill: &Kill) -> Result<()>;
    async fn lift_kill(&self, id: Uuid, at: OffsetDateTime) -> Result<bool>;
    /// Kills not yet lifted, in every tenant.
    async fn active_kills(&self) -> Result<Vec<Kill>>;

    /// Appends decisions in one transaction.
    async fn insert_decisions(&self, records: &[DecisionRecord]) -> Result<()>;
    /// The newest `limit` decisions of a tenant, newest first.
    async fn recent_decisions(&self, tenant: Uuid, limit: u32) -> Result<Vec<DecisionRecord>>;

    /// Appends audit entries and the tree hashes they add, and `decisions` to the decision log,
    /// in one transaction.
    async fn append_audit(
        &self,
        records: &[AuditRecord],
        hashes: &[(u64, [u8; 32])],
        decisions: &[DecisionRecord],
    ) -> Result<()>;
    /// How many entries the log holds.
    async fn audit_size(&self) -> Result<u64>;
    /// Stored tree hashes by index, in the order asked; a missing one is an error.
    async fn audit_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>>;
    async fn audit_entry(&self, seq: u64) -> Result<Option<AuditRecord>>;
    /// Entries matching `filter` with `seq > after`, in order.
    async fn audit_entries(
        &self,
        filter: &AuditFilter,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>>;
    /// Stores (or re-signs) the checkpoint for a tree size.
    async fn put_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<()>;
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;
    async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>>;

    /// One recorded decision, by id.
    async fn decision(&self, id: Uuid) -> Result<Option<DecisionRecord>>;
    /// Stores a decision's provenance manifest; a second one for the same decision conflicts.
    async fn put_manifest(&self, decision: Uuid, tenant: Uuid, envelope: &str) -> Result<()>;
    /// A decision's manifest with its tenant.
    async fn manifest(&self, decision: Uuid) -> Result<Option<(Uuid, String)>>;
    /// Stores a new approval request.
    async fn insert_approval(&self, approval: &Approval) -> Result<()>;
    async fn approval(&self, id: Uuid) -> Result<Option<Approval>>;
    async fn list_approvals(
        &self,
        tenant: Uuid,
        filter: &ApprovalFilter,
        page: PageRequest,
    ) -> Result<Page<Approval>>;
    /// The pending request of this agent for the action with `digest`, if one exists (an agent
    /// that asks again waits on the same request).
    async fn pending_approval(
        &self,
        tenant: Uuid,
        agent: Uuid,
        digest: &str,
    ) -> Result<Option<Approval>>;
    /// Replaces the approval when its stored version is still `expected` (the new record carries
    /// the next version). `false` means someone else changed it first.
    async fn update_approval(&self, approval: &Approval, expected: u32) -> Result<bool>;
    /// Pending requests whose expiry has passed, in every tenant.
    async fn due_approvals(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Approval>>;

    async fn insert_webhook(&self, webhook: &Webhook) -> Result<()>;
    async fn update_webhook(&self, webhook: &Webhook) -> Result<bool>;
    async fn delete_webhook(&self, tenant: Uuid, id: Uuid) -> Result<bool>;
    async fn webhooks(&self, tenant: Uuid) -> Result<Vec<Webhook>>;
    /// Queues deliveries in one transaction.
    async fn insert_deliveries(&self, deliveries: &[Delivery]) -> Result<()>;
    async fn update_delivery(&self, delivery: &Delivery) -> Result<()>;
    /// Leases a due delivery to this node until `until`, if its next attempt is still
    /// `expected` (no other node has leased it since it was read). A node that dies holding a
    /// lease loses it at `until`, and the delivery is attempted again: at least once.
    async fn lease_delivery(
        &self,
        id: Uuid,
        expected: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool>;
    /// Pending deliveries whose next attempt is due, in every tenant.
    async fn due_deliveries(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Delivery>>;
    /// The delivery log of one webhook, oldest first.
    async fn deliveries(
        &self,
        tenant: Uuid,
        webhook: Uuid,
        page: PageRequest,
    ) -> Result<Page<Delivery>>;

    /// Appends LLM usage rows in one transaction.
    async fn insert_llm_usage(&self, rows: &[LlmUsage]) -> Result<()>;
    /// A tenant's LLM usage summed per time bucket (and agent and model, when asked).
    async fn llm_usage(&self, tenant: Uuid, query: &UsageQuery) -> Result<Vec<UsageRow>>;
    /// A tenant's (or one agent's) LLM spend since `since`, in millionths of a dollar.
    async fn llm_spend(
        &self,
        tenant: Uuid,
        agent: Option<&str>,
        since: OffsetDateTime,
    ) -> Result<u64>;
    async fn insert_mcp_server(&self, server: &McpServer) -> Result<()>;
    async fn update_mcp_server(&self, server: &McpServer) -> Result<bool>;
    async fn delete_mcp_server(&self, tenant: Uuid, id: Uuid) -> Result<bool>;
    /// The upstream MCP servers of a tenant, by name.
    async fn mcp_servers(&self, tenant: Uuid) -> Result<Vec<McpServer>>;
    /// Stores the pin of one upstream tool, replacing the one it had.
    async fn put_tool_pin(&self, pin: &ToolPin) -> Result<()>;
    /// The pins of one upstream server's tools, by tool name.
    async fn tool_pins(&self, tenant: Uuid, server: &str) -> Result<Vec<ToolPin>>;
    /// Forgets the pins of one upstream server (when the server is deleted).
    async fn delete_tool_pins(&self, tenant: Uuid, server: &str) -> Result<u64>;
    /// Creates or replaces a tenant secret (the caller seals it).
    async fn put_secret(&self, secret: &SealedSecret) -> Result<()>;
    async fn secret(&self, tenant: Uuid, name: &str) -> Result<Option<SealedSecret>>;
    /// A tenant's secrets' metadata, by name.
    async fn secrets(&self, tenant: Uuid) -> Result<Vec<SecretMeta>>;
    async fn delete_secret(&self, tenant: Uuid, name: &str) -> Result<bool>;
}
