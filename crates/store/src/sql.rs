//! The SQL implementation of [`Store`], shared by SQLite and PostgreSQL.

use async_trait::async_trait;
use sentinel_core::*;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::filters::{Bind, Conditions};
use crate::journaled::Journal;
use crate::rows::{self, enum_text, millis};
use crate::{
    AgentFilter, ApprovalFilter, AuditFilter, AuditRecord, Dialect, Result, Store, StoreError,
    StoredCheckpoint, ToolFilter,
};

/// A store over connection pools of either dialect.
#[derive(Clone)]
pub struct SqlStore {
    /// Reads (and, on PostgreSQL, writes too).
    pool: AnyPool,
    /// Writes. On SQLite a pool of one connection: SQLite admits one writer at a time, so
    /// writers queue here on a future, in order, instead of racing for the lock on several
    /// connections and polling for it in SQLite's busy handler (sleeps of 1 ms up to 100 ms,
    /// and `database is locked` after `busy_timeout`). On PostgreSQL the same pool as reads.
    writer: AnyPool,
    dialect: Dialect,
    /// Where audit appends are made durable first (SQLite files; see [`crate::journaled`]).
    journal: Journal,
}

type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

pub(crate) fn bind_all<'q>(mut q: AnyQuery<'q>, binds: Vec<Bind>) -> AnyQuery<'q> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s),
            Bind::OptText(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        };
    }
    q
}

/// `rows` parenthesised lists of `columns` parameters, for multi-row inserts and `IN` lists.
/// SQLite gets anonymous `?`s: it looks a numbered parameter's name up by walking the
/// statement's list of names, and sqlx asks for every parameter's name when binding, which made
/// a 500-parameter insert quadratic.
pub(crate) fn placeholders(dialect: Dialect, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=columns)
                .map(|c| match dialect {
                    Dialect::Sqlite => "?".to_string(),
                    Dialect::Postgres => format!("${}", r * columns + c),
                })
                .collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `id_or_name` as an id when it parses as one, else as a name.
fn id_or_name_condition(cond: &mut Conditions, id_or_name: &str) {
    match Uuid::parse_str(id_or_name) {
        Ok(id) => cond.push("id", "=", Bind::Text(id.to_string())),
        Err(_) => cond.push("name", "=", Bind::Text(id_or_name.to_string())),
    }
}

impl SqlStore {
    pub(crate) fn new(pool: AnyPool, writer: AnyPool, dialect: Dialect) -> Self {
        SqlStore {
            pool,
            writer,
            dialect,
            journal: Journal::Off,
        }
    }

    pub(crate) fn with_journal(self, journal: Journal) -> Self {
        SqlStore { journal, ..self }
    }

    /// Before reading the audit or decision logs: waits until the tables hold every audit
    /// batch already durable in the journal, so that what was answered can be read back.
    async fn audit_caught_up(&self) -> Result<()> {
        match &self.journal {
            Journal::On(journal) => journal.caught_up().await,
            Journal::Off | Journal::HeldElsewhere(_) => Ok(()),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The pool for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for writes (see [`SqlStore::writer`]'s field).
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    async fn fetch_optional<T>(
        &self,
        sql: &str,
        binds: Vec<Bind>,
        map: fn(&AnyRow) -> Result<T>,
    ) -> Result<Option<T>> {
        let row = bind_all(sqlx::query(sql), binds)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(map).transpose()
    }

    /// Runs one write statement on the writer; the number of rows it changed.
    pub(crate) async fn execute(&self, sql: &str, binds: Vec<Bind>) -> Result<u64> {
        Ok(bind_all(sqlx::query(sql), binds)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    /// One page of `table`, ordered by id (UUIDv7 text sorts by creation time).
    async fn fetch_page<T>(
        &self,
        table: &str,
        mut cond: Conditions,
        page: PageRequest,
        map: fn(&AnyRow) -> Result<T>,
        id_of: fn(&T) -> Uuid,
    ) -> Result<Page<T>> {
        if let Some(after) = page.after {
            cond.push("id", ">", Bind::Text(after.to_string()));
        }
        let sql = format!(
            "SELECT * FROM {table}{} ORDER BY id LIMIT ${}",
            cond.where_sql(),
            cond.next()
        );
        let mut binds = cond.binds;
        binds.push(Bind::Int(page.limit as i64 + 1));
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(&self.pool)
            .await?;
        let items = rows.iter().map(map).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page.limit, id_of))
    }
}

fn text(s: &str) -> Bind {
    Bind::Text(s.to_string())
}
fn opt(s: &Option<String>) -> Bind {
    Bind::OptText(s.clone())
}
/// The empty string stands for "no server", so that `UNIQUE (tenant, server, name)` also holds
/// for tools without one (NULLs never collide in SQL).
fn server(s: &Option<String>) -> Bind {
    Bind::Text(s.clone().unwrap_or_default())
}
fn id(u: Uuid) -> Bind {
    Bind::Text(u.to_string())
}
fn json(v: &impl serde::Serialize) -> Bind {
    Bind::Text(serde_json::to_string(v).expect("records serialize"))
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_tenant(&self, t: &Tenant) -> Result<()> {
        self.execute(
            "INSERT INTO tenants (id, slug, display_name, created_at) VALUES ($1, $2, $3, $4)",
            vec![
                id(t.id),
                text(&t.slug),
                text(&t.display_name),
                Bind::Int(millis(t.created_at)),
            ],
        )
        .await
        .map_err(|e| named_conflict(e, format!("tenant {:?}", t.slug)))?;
        Ok(())
    }

    async fn tenant(&self, id_or_slug: &str) -> Result<Option<Tenant>> {
        let (sql, bind) = match Uuid::parse_str(id_or_slug) {
            Ok(u) => ("SELECT * FROM tenants WHERE id = $1", id(u)),
            Err(_) => ("SELECT * FROM tenants WHERE slug = $1", text(id_or_slug)),
        };
        self.fetch_optional(sql, vec![bind], rows::tenant).await
    }

    async fn list_tenants(&self, page: PageRequest) -> Result<Page<Tenant>> {
        self.fetch_page("tenants", Conditions::default(), page, rows::tenant, |t| {
            t.id
        })
        .await
    }

    async fn update_tenant(&self, t: &Tenant) -> Result<()> {
        let n = self
            .execute(
                "UPDATE tenants SET display_name = $1 WHERE id = $2",
                vec![text(&t.display_name), id(t.id)],
            )
            .await?;
        found(n, "tenant")
    }

    async fn delete_tenant(&self, tenant: Uuid) -> Result<bool> {
        Ok(self
            .execute("DELETE FROM tenants WHERE id = $1", vec![id(tenant)])
            .await?
            > 0)
    }

    async fn insert_agent(&self, a: &Agent) -> Result<()> {
        self.execute(
            "INSERT INTO agents (id, tenant_id, name, framework, owner, description, status, \
             labels, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            agent_binds(a),
        )
        .await
        .map_err(|e| named_conflict(e, format!("agent {:?}", a.name)))?;
        Ok(())
    }

    async fn agent(&self, tenant: Uuid, id_or_name: &str) -> Result<Option<Agent>> {
        let mut cond = Conditions::default();
        cond.push("tenant_id", "=", id(tenant));
        id_or_name_condition(&mut cond, id_or_name);
        let sql = format!("SELECT * FROM agents{}", cond.where_sql());
        self.fetch_optional(&sql, cond.binds, rows::agent).await
    }

    async fn list_agents(
        &self,
        tenant: Uuid,
        f: &AgentFilter,
        page: PageRequest,
    ) -> Result<Page<Agent>> {
        let mut cond = Conditions::default();
        cond.push("tenant_id", "=", id(tenant));
        if let Some(s) = f.status {
            cond.push("status", "=", Bind::Text(enum_text(&s)));
        }
        if let Some(fw) = &f.framework {
            cond.push("framework", "=", text(fw));
        }
        if let Some(o) = &f.owner {
            cond.push("owner", "=", text(o));
        }
        let mut result = self
            .fetch_page("agents", cond, page, rows::agent, |a| a.id)
            .await?;
        if let Some((k, v)) = &f.label {
            // Labels live in a JSON column; filtering after the fetch keeps the SQL portable.
            // Pages may then hold fewer items than asked for, but cursors stay correct.
            result.items.retain(|a| a.labels.get(k) == Some(v));
        }
        Ok(result)
    }

    async fn update_agent(&self, a: &Agent) -> Result<()> {
        let n = self
            .execute(
                "UPDATE agents SET framework = $1, owner = $2, description = $3, status = $4, \
                 labels = $5, updated_at = $6 WHERE id = $7 AND tenant_id = $8",
                vec![
                    opt(&a.framework),
                    opt(&a.owner),
                    opt(&a.description),
                    Bind::Text(enum_text(&a.status)),
                    json(&a.labels),
                    Bind::Int(millis(a.updated_at)),
                    id(a.id),
                    id(a.tenant_id),
                ],
            )
            .await?;
        found(n, "agent")
    }

    async fn delete_agent(&self, tenant: Uuid, agent: Uuid) -> Result<bool> {
        let n = self
            .execute(
                "DELETE FROM agents WHERE id = $1 AND tenant_id = $2",
                vec![id(agent), id(tenant)],
            )
            .await?;
        Ok(n > 0)
    }

    async fn insert_tool(&self, t: &Tool) -> Result<()> {
        self.execute(
            "INSERT INTO tools (id, tenant_id, name, kind, server, url, owner, scopes, risk, \
             metadata, is_active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            tool_binds(t),
        )
        .await
        .map_err(|e| named_conflict(e, format!("tool {:?}", t.name)))?;
        Ok(())
    }

    async fn tool(&self, tenant: Uuid, id_or_name: &str) -> Result<Option<Tool>> {
        let mut cond = Conditions::default();
        cond.push("tenant_id", "=", id(tenant));
        id_or_name_condition(&mut cond, id_or_name);
        let sql = format!(
            "SELECT * FROM tools{} ORDER BY id LIMIT 1",
            cond.where_sql()
        );
        self.fetch_optional(&sql, cond.binds, rows::tool).await
    }

    async fn list_tools(
        &self,
        tenant: Uuid,
        f: &ToolFilter,
        page: PageRequest,
    ) -> Result<Page<Tool>> {
        let mut cond = Conditions::default();
        cond.push("tenant_id", "=", id(tenant));
        if let Some(k) = f.kind {
            cond.push("kind", "=", Bind::Text(enum_text(&k)));
        }
        if let Some(r) = f.risk {
            cond.push("risk", "=", Bind::Text(enum_text(&r)));
        }
        if let Some(s) = &f.server {
            cond.push("server", "=", text(s));
        }
        if let Some(a) = f.is_active {
            cond.push("is_active", "=", Bind::Int(a as i64));
        }
        self.fetch_page("tools", cond, page, rows::tool, |t| t.id)
            .await
    }

    async fn update_tool(&self, t: &Tool) -> Result<()> {
        let n = self
            .execute(
                "UPDATE tools SET kind = $1, server = $2, url = $3, owner = $4, scopes = $5, \
                 risk = $6, metadata = $7, is_active = $8, updated_at = $9 \
                 WHERE id = $10 AND tenant_id = $11",
                vec![
                    Bind::Text(enum_text(&t.kind)),
                    server(&t.server),
                    opt(&t.url),
                    opt(&t.owner),
                    json(&t.scopes),
                    Bind::Text(enum_text(&t.risk)),
                    json(&t.metadata),
                    Bind::Int(t.is_active as i64),
                    Bind::Int(millis(t.updated_at)),
                    id(t.id),
                    id(t.tenant_id),
                ],
            )
            .await
            .map_err(|e| named_conflict(e, format!("tool {:?}", t.name)))?;
        found(n, "tool")
    }

    async fn delete_tool(&self, tenant: Uuid, tool: Uuid) -> Result<bool> {
        let n = self
            .execute(
                "DELETE FROM tools WHERE id = $1 AND tenant_id = $2",
                vec![id(tool), id(tenant)],
            )
            .await?;
        Ok(n > 0)
    }

    async fn insert_api_key(&self, k: &ApiKey) -> Result<()> {
        let sql = "INSERT INTO api_keys (id, tenant_id, role, agent_id, name, secret_hash, \
                   created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        sqlx::query(sql)
            .bind(k.id.to_string())
            .bind(k.tenant_id.map(|t| t.to_string()))
            .bind(k.role.as_str())
            .bind(k.agent_id.map(|a| a.to_string()))
            .bind(k.name.clone())
            .bind(hex::encode(k.secret_hash))
            .bind(millis(k.created_at))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn api_key(&self, key: Uuid) -> Result<Option<ApiKey>> {
        self.fetch_optional(
            "SELECT * FROM api_keys WHERE id = $1",
            vec![id(key)],
            rows::api_key,
        )
        .await
    }

    async fn list_api_keys(&self, tenant: Option<Uuid>, page: PageRequest) -> Result<Page<ApiKey>> {
        let mut cond = Conditions::default();
        match tenant {
            Some(t) => cond.push("tenant_id", "=", id(t)),
            None => cond.clauses.push("tenant_id IS NULL".into()),
        }
        self.fetch_page("api_keys", cond, page, rows::api_key, |k| k.id)
            .await
    }

    async fn revoke_api_key(&self, key: Uuid, at: OffsetDateTime) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                vec![Bind::Int(millis(at)), id(key)],
            )
            .await?;
        Ok(n > 0)
    }

    async fn touch_api_key(&self, key: Uuid, at: OffsetDateTime) -> Result<()> {
        self.execute(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2",
            vec![Bind::Int(millis(at)), id(key)],
        )
        .await?;
        Ok(())
    }

    async fn put_policy_revision(&self, tenant: Uuid, r: &PolicyRevision) -> Result<()> {
        if self.policy_revision(tenant, &r.revision).await?.is_some() {
            return Ok(());
        }
        self.execute(
            "INSERT INTO policy_revisions (tenant_id, revision, bundle, created_at) VALUES ($1, $2, $3, $4)",
            vec![id(tenant), text(&r.revision), json(&r.bundle), Bind::Int(millis(r.created_at))],
        )
        .await
        .map(|_| ())
        .or_else(|e| match e {
            // Two nodes storing the same revision at once: it is there either way.
            StoreError::Conflict(_) => Ok(()),
            other => Err(other),
        })
    }

    async fn policy_revision(
        &self,
        tenant: Uuid,
        revision: &str,
    ) -> Result<Option<PolicyRevision>> {
        self.fetch_optional(
            "SELECT * FROM policy_revisions WHERE tenant_id = $1 AND revision = $2",
            vec![id(tenant), text(revision)],
            rows::policy_revision,
        )
        .await
    }

    async fn list_policy_revisions(&self, tenant: Uuid) -> Result<Vec<PolicyRevision>> {
        let rows = bind_all(
            sqlx::query("SELECT * FROM policy_revisions WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 500"),
            vec![id(tenant)],
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::policy_revision).collect()
    }

    async fn record_activation(&self, tenant: Uuid, a: &PolicyActivation) -> Result<()> {
        self.execute(
            "INSERT INTO policy_activations (id, tenant_id, revision, activated_by, activated_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                id(new_id()),
                id(tenant),
                text(&a.revision),
                text(&a.activated_by),
                Bind::Int(millis(a.activated_at)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn activations(&self, tenant: Uuid) -> Result<Vec<PolicyActivation>> {
        let rows = bind_all(
            sqlx::query(
                "SELECT * FROM policy_activations WHERE tenant_id = $1 ORDER BY id DESC LIMIT 500",
            ),
            vec![id(tenant)],
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::activation).collect()
    }

    async fn active_revisions(&self) -> Result<Vec<(Uuid, PolicyRevision)>> {
        let sql = "SELECT r.* FROM policy_revisions r JOIN policy_activations a \
                   ON a.tenant_id = r.tenant_id AND a.revision = r.revision \
                   WHERE a.id = (SELECT MAX(id) FROM policy_activations WHERE tenant_id = r.tenant_id)";
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let tenant: String = sqlx::Row::try_get(row, "tenant_id")?;
                let tenant =
                    Uuid::parse_str(&tenant).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((tenant, rows::policy_revision(row)?))
            })
            .collect()
    }

    async fn active_revision_names(&self) -> Result<Vec<(Uuid, String)>> {
        let sql = "SELECT a.tenant_id, a.revision FROM policy_activations a \
                   WHERE a.id = (SELECT MAX(id) FROM policy_activations WHERE tenant_id = a.tenant_id)";
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let tenant: String = sqlx::Row::try_get(row, "tenant_id")?;
                let tenant =
                    Uuid::parse_str(&tenant).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((tenant, sqlx::Row::try_get(row, "revision")?))
            })
            .collect()
    }

    fn shared_by_nodes(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    async fn announce_change(&self) -> Result<()> {
        if self.dialect == Dialect::Postgres {
            sqlx::query(&format!("NOTIFY {}", crate::CHANGE_CHANNEL))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn insert_kill(&self, k: &Kill) -> Result<()> {
        self.execute(
            "INSERT INTO kills (id, tenant_id, scope, target, reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                id(k.id),
                id(k.tenant_id),
                Bind::Text(enum_text(&k.scope)),
                text(&k.target),
                text(&k.reason),
                text(&k.created_by),
                Bind::Int(millis(k.created_at)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn lift_kill(&self, kill: Uuid, at: OffsetDateTime) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE kills SET lifted_at = $1 WHERE id = $2 AND lifted_at IS NULL",
                vec![Bind::Int(millis(at)), id(kill)],
            )
            .await?;
        Ok(n > 0)
    }

    async fn active_kills(&self) -> Result<Vec<Kill>> {
        let rows = sqlx::query("SELECT * FROM kills WHERE lifted_at IS NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::kill).collect()
    }

    async fn insert_decisions(&self, records: &[DecisionRecord]) -> Result<()> {
        self.insert_decision_rows(records).await
    }

    async fn recent_decisions(&self, tenant: Uuid, limit: u32) -> Result<Vec<DecisionRecord>> {
        self.audit_caught_up().await?;
        let rows = bind_all(
            sqlx::query("SELECT * FROM decisions WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"),
            vec![id(tenant), Bind::Int(limit as i64)],
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::decision).collect()
    }

    async fn append_audit(
        &self,
        records: &[AuditRecord],
        hashes: &[(u64, [u8; 32])],
        decisions: &[DecisionRecord],
    ) -> Result<()> {
        match &self.journal {
            Journal::On(journal) => journal.append(records, hashes, decisions).await,
            Journal::Off => self.append_audit_rows(records, hashes, decisions).await,
            Journal::HeldElsewhere(path) => Err(StoreError::Unavailable(format!(
                "another store holds this database's audit journal ({}): one Sentinel server \
                 per SQLite database; several nodes share PostgreSQL instead",
                path.display()
            ))),
        }
    }

    async fn audit_size(&self) -> Result<u64> {
        self.audit_caught_up().await?;
        self.audit_count().await
    }

    async fn audit_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>> {
        self.audit_caught_up().await?;
        self.read_audit_hashes(indexes).await
    }

    async fn audit_entry(&self, seq: u64) -> Result<Option<AuditRecord>> {
        self.audit_caught_up().await?;
        self.read_audit_entry(seq).await
    }

    async fn audit_entries(
        &self,
        filter: &AuditFilter,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        self.audit_caught_up().await?;
        self.read_audit_entries(filter, after, limit).await
    }

    async fn put_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<()> {
        self.write_checkpoint(checkpoint).await
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        self.read_checkpoint(None).await
    }

    async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>> {
        self.read_checkpoint(Some(size)).await
    }

    async fn decision(&self, decision: Uuid) -> Result<Option<DecisionRecord>> {
        self.audit_caught_up().await?;
        self.fetch_optional(
            "SELECT * FROM decisions WHERE id = $1",
            vec![id(decision)],
            rows::decision,
        )
        .await
    }

    async fn put_manifest(&self, decision: Uuid, tenant: Uuid, envelope: &str) -> Result<()> {
        self.execute(
            "INSERT INTO provenance (decision_id, tenant_id, envelope, created_at) VALUES ($1, $2, $3, $4)",
            vec![id(decision), id(tenant), text(envelope), Bind::Int(millis(ids::now()))],
        )
        .await
        .map_err(|e| named_conflict(e, format!("a manifest for decision {decision}")))?;
        Ok(())
    }

    async fn manifest(&self, decision: Uuid) -> Result<Option<(Uuid, String)>> {
        let row = sqlx::query("SELECT tenant_id, envelope FROM provenance WHERE decision_id = $1")
            .bind(decision.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let tenant: String = sqlx::Row::try_get(&row, "tenant_id")?;
                let tenant =
                    Uuid::parse_str(&tenant).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(Some((tenant, sqlx::Row::try_get(&row, "envelope")?)))
            }
        }
    }
    async fn insert_approval(&self, approval: &Approval) -> Result<()> {
        self.insert_approval_row(approval).await
    }
    async fn approval(&self, id: Uuid) -> Result<Option<Approval>> {
        self.approval_row(id).await
    }
    async fn list_approvals(
        &self,
        tenant: Uuid,
        filter: &ApprovalFilter,
        page: PageRequest,
    ) -> Result<Page<Approval>> {
        self.approval_rows(tenant, filter, page).await
    }
    async fn pending_approval(
        &self,
        tenant: Uuid,
        agent: Uuid,
        digest: &str,
    ) -> Result<Option<Approval>> {
        self.pending_approval_row(tenant, agent, digest).await
    }
    async fn update_approval(&self, approval: &Approval, expected: u32) -> Result<bool> {
        self.update_approval_row(approval, expected).await
    }
    async fn due_approvals(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Approval>> {
        self.due_approval_rows(now, limit).await
    }
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<()> {
        self.insert_webhook_row(webhook).await
    }
    async fn update_webhook(&self, webhook: &Webhook) -> Result<bool> {
        self.update_webhook_row(webhook).await
    }
    async fn delete_webhook(&self, tenant: Uuid, id: Uuid) -> Result<bool> {
        self.delete_webhook_row(tenant, id).await
    }
    async fn webhooks(&self, tenant: Uuid) -> Result<Vec<Webhook>> {
        self.webhook_rows(tenant).await
    }
    async fn insert_deliveries(&self, deliveries: &[Delivery]) -> Result<()> {
        self.insert_delivery_rows(deliveries).await
    }
    async fn update_delivery(&self, delivery: &Delivery) -> Result<()> {
        self.update_delivery_row(delivery).await
    }
    async fn lease_delivery(
        &self,
        id: Uuid,
        expected: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool> {
        self.lease_delivery_row(id, expected, until).await
    }
    async fn due_deliveries(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Delivery>> {
        self.due_delivery_rows(now, limit).await
    }
    async fn deliveries(
        &self,
        tenant: Uuid,
        webhook: Uuid,
        page: PageRequest,
    ) -> Result<Page<Delivery>> {
        self.delivery_rows(tenant, webhook, page).await
    }

    async fn insert_llm_usage(&self, rows: &[LlmUsage]) -> Result<()> {
        self.insert_llm_usage_rows(rows).await
    }

    async fn llm_usage(&self, tenant: Uuid, query: &UsageQuery) -> Result<Vec<UsageRow>> {
        self.llm_usage_report(tenant, query).await
    }

    async fn llm_spend(
        &self,
        tenant: Uuid,
        agent: Option<&str>,
        since: OffsetDateTime,
    ) -> Result<u64> {
        self.llm_spend_since(tenant, agent, since).await
    }

    async fn insert_mcp_server(&self, server: &McpServer) -> Result<()> {
        self.insert_mcp_server_row(server).await
    }
    async fn update_mcp_server(&self, server: &McpServer) -> Result<bool> {
        self.update_mcp_server_row(server).await
    }
    async fn delete_mcp_server(&self, tenant: Uuid, id: Uuid) -> Result<bool> {
        self.delete_mcp_server_row(tenant, id).await
    }
    async fn mcp_servers(&self, tenant: Uuid) -> Result<Vec<McpServer>> {
        self.mcp_server_rows(tenant).await
    }
    async fn put_tool_pin(&self, pin: &ToolPin) -> Result<()> {
        self.put_tool_pin_row(pin).await
    }
    async fn tool_pins(&self, tenant: Uuid, server: &str) -> Result<Vec<ToolPin>> {
        self.tool_pin_rows(tenant, server).await
    }
    async fn delete_tool_pins(&self, tenant: Uuid, server: &str) -> Result<u64> {
        self.delete_tool_pin_rows(tenant, server).await
    }
    async fn put_secret(&self, secret: &SealedSecret) -> Result<()> {
        self.put_secret_row(secret).await
    }
    async fn secret(&self, tenant: Uuid, name: &str) -> Result<Option<SealedSecret>> {
        self.secret_row(tenant, name).await
    }
    async fn secrets(&self, tenant: Uuid) -> Result<Vec<SecretMeta>> {
        self.secret_rows(tenant).await
    }
    async fn delete_secret(&self, tenant: Uuid, name: &str) -> Result<bool> {
        self.delete_secret_row(tenant, name).await
    }
}

fn agent_binds(a: &Agent) -> Vec<Bind> {
    vec![
        id(a.id),
        id(a.tenant_id),
        text(&a.name),
        opt(&a.framework),
        opt(&a.owner),
        opt(&a.description),
        Bind::Text(enum_text(&a.status)),
        json(&a.labels),
        Bind::Int(millis(a.created_at)),
        Bind::Int(millis(a.updated_at)),
    ]
}

fn tool_binds(t: &Tool) -> Vec<Bind> {
    vec![
        id(t.id),
        id(t.tenant_id),
        text(&t.name),
        Bind::Text(enum_text(&t.kind)),
        server(&t.server),
        opt(&t.url),
        opt(&t.owner),
        json(&t.scopes),
        Bind::Text(enum_text(&t.risk)),
        json(&t.metadata),
        Bind::Int(t.is_active as i64),
        Bind::Int(millis(t.created_at)),
        Bind::Int(millis(t.updated_at)),
    ]
}

/// Gives a unique violation the name of the record that collided.
fn named_conflict(e: StoreError, what: String) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict(what),
        other => other,
    }
}

fn found(rows: u64, what: &str) -> Result<()> {
    if rows == 0 {
        Err(StoreError::NotFound(what.into()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_in_order() {
        use crate::Dialect::*;
        assert_eq!(super::placeholders(Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(super::placeholders(Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}
