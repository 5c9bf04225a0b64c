//! The audit log's tables, on both dialects.

use std::collections::HashMap;

use sqlx::Row;

use sentinel_core::DecisionRecord;

use crate::filters::{Bind, Conditions};
use crate::rows::{self, millis};
use crate::sql::{bind_all, placeholders};
use crate::{AuditFilter, AuditRecord, Dialect, Result, SqlStore, StoreError, StoredCheckpoint};

/// One SQL statement and the values for its placeholders.
pub(crate) type Statement = (String, Vec<Bind>);

/// Whether a write waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// The commit is durable when the write returns (SQLite `synchronous = FULL`).
    Full,
    /// On SQLite, the commit survives the process being killed but not the machine losing
    /// power (`synchronous = NORMAL`: the WAL is synced at checkpoints). Only for writes that
    /// are durable elsewhere already: the audit journal's batches.
    Deferred,
}

/// The INSERTs an audit batch is made of: each statement's head, and its columns per row.
type Insert = (&'static str, usize);
const ENTRY_INSERT: Insert = (
    "INSERT INTO audit_entries (seq, tenant_id, kind, agent, tool, outcome, created_at, entry, \
     leaf_hash) VALUES ",
    9,
);
const HASH_INSERT: Insert = ("INSERT INTO audit_hashes (idx, hash) VALUES ", 2);
const DECISION_INSERT: Insert = (
    "INSERT INTO decisions (id, tenant_id, agent, tool, outcome, revision, input, result, \
     created_at, duration_us) VALUES ",
    10,
);

fn insert_sql(dialect: Dialect, (head, columns): Insert, rows: usize) -> String {
    format!("{head}{}", placeholders(dialect, rows, columns))
}

/// Whether `sql`, with `values` bound values, is a statement of an audit batch as SQLite runs
/// it: replaying the audit journal runs nothing else it reads from the file.
pub(crate) fn is_audit_batch_statement(sql: &str, values: usize) -> bool {
    [ENTRY_INSERT, HASH_INSERT, DECISION_INSERT]
        .into_iter()
        .any(|insert @ (head, columns)| {
            values > 0
                && values.is_multiple_of(columns)
                && sql.starts_with(head)
                && sql == insert_sql(Dialect::Sqlite, insert, values / columns)
        })
}

/// Multi-row INSERTs of decision log rows: one statement per chunk rather than per row keeps a
/// large group commit cheap (well inside both dialects' bound-parameter limits).
/// The rows of decision inserts (as [`decision_inserts`] makes them) whose tenant id `keep`s,
/// as statements again; and how many rows were left out.
pub(crate) fn decision_rows_where(
    dialect: Dialect,
    inserts: &[Statement],
    keep: impl Fn(&str) -> bool,
) -> (Vec<Statement>, usize) {
    let (_, columns) = DECISION_INSERT;
    let mut rows = Vec::new();
    let mut left_out = 0;
    for (_, binds) in inserts {
        for row in binds.chunks(columns) {
            // The tenant id is the row's second value (read back from the journal, text is
            // `OptText`).
            match row.get(1) {
                Some(Bind::Text(tenant) | Bind::OptText(Some(tenant))) if keep(tenant) => {
                    rows.push(row)
                }
                _ => left_out += 1,
            }
        }
    }
    let statements = rows
        .chunks(50)
        .map(|chunk| {
            (
                insert_sql(dialect, DECISION_INSERT, chunk.len()),
                chunk.concat(),
            )
        })
        .collect();
    (statements, left_out)
}

pub(crate) fn decision_inserts(dialect: Dialect, records: &[DecisionRecord]) -> Vec<Statement> {
    let json = |v: &serde_json::Value| Bind::Text(v.to_string());
    records
        .chunks(50)
        .map(|chunk| {
            let sql = insert_sql(dialect, DECISION_INSERT, chunk.len());
            let mut binds = Vec::with_capacity(chunk.len() * 10);
            for r in chunk {
                binds.extend([
                    Bind::Text(r.decision_id.to_string()),
                    Bind::Text(r.tenant_id.to_string()),
                    Bind::Text(r.agent.clone()),
                    Bind::Text(r.tool.clone()),
                    Bind::Text(r.outcome.clone()),
                    Bind::Text(r.revision.clone()),
                    json(&r.input),
                    json(&r.result),
                    Bind::Int(millis(r.timestamp)),
                    Bind::Int(r.duration_us as i64),
                ]);
            }
            (sql, binds)
        })
        .collect()
}

/// The INSERTs of one audit batch: entries, new tree hashes, and the decision records that
/// commit with them.
pub(crate) fn audit_inserts(
    dialect: Dialect,
    records: &[AuditRecord],
    hashes: &[(u64, [u8; 32])],
    decisions: &[DecisionRecord],
) -> Vec<Statement> {
    let mut statements = Vec::new();
    for chunk in records.chunks(100) {
        let sql = insert_sql(dialect, ENTRY_INSERT, chunk.len());
        let mut binds = Vec::with_capacity(chunk.len() * 9);
        for r in chunk {
            binds.extend([
                Bind::Int(r.seq as i64),
                Bind::OptText(r.tenant_id.map(|t| t.to_string())),
                Bind::Text(r.kind.clone()),
                Bind::OptText(r.agent.clone()),
                Bind::OptText(r.tool.clone()),
                Bind::OptText(r.outcome.clone()),
                Bind::Int(millis(r.created_at)),
                Bind::Text(r.entry.clone()),
                Bind::Text(hex::encode(r.leaf_hash)),
            ]);
        }
        statements.push((sql, binds));
    }
    for chunk in hashes.chunks(400) {
        let sql = insert_sql(dialect, HASH_INSERT, chunk.len());
        let mut binds = Vec::with_capacity(chunk.len() * 2);
        for (idx, hash) in chunk {
            binds.extend([Bind::Int(*idx as i64), Bind::Text(hex::encode(hash))]);
        }
        statements.push((sql, binds));
    }
    statements.extend(decision_inserts(dialect, decisions));
    statements
}

/// The writer connection while a hand-written transaction may be open on it: unless the
/// transaction ended (committed or rolled back), it is closed when dropped — which makes SQLite
/// roll back — instead of going back to the pool mid-transaction (a cancelled write, say).
struct OpenUntilCommitted(Option<sqlx::pool::PoolConnection<sqlx::Any>>);

impl Drop for OpenUntilCommitted {
    fn drop(&mut self) {
        if let Some(conn) = &mut self.0 {
            conn.close_on_drop();
        }
    }
}

impl SqlStore {
    /// Runs `statements` as one transaction. On SQLite that is one trip to the connection's
    /// worker thread (the statements, between `BEGIN IMMEDIATE` and `COMMIT`, as one string)
    /// instead of one per statement: an audit commit at low load is a handful of statements,
    /// and each trip is a thread wake-up on the path of every decision waiting for it.
    pub(crate) async fn write_all(
        &self,
        statements: Vec<Statement>,
        sync: Durability,
    ) -> Result<()> {
        if statements.is_empty() {
            return Ok(());
        }
        if self.dialect() == Dialect::Sqlite {
            // The connection is the store's one writer: it is back to FULL before anyone else
            // writes on it, or closed.
            let before = match sync {
                Durability::Full => "",
                Durability::Deferred => "PRAGMA synchronous = NORMAL;\n",
            };
            let mut sql = format!("{before}BEGIN IMMEDIATE;\n");
            let mut binds = Vec::new();
            for (statement, values) in statements {
                sql.push_str(&statement);
                sql.push_str(";\n");
                binds.extend(values);
            }
            sql.push_str("COMMIT;");
            let mut conn = OpenUntilCommitted(Some(self.writer().acquire().await?));
            let c = conn.0.as_mut().expect("held until the end");
            if let Err(e) = bind_all(sqlx::query(&sql), binds).execute(&mut **c).await {
                // A statement (or the commit) failed with the transaction open: end it, so the
                // connection goes back to the pool clean. Nothing of it was committed.
                match sqlx::query("ROLLBACK; PRAGMA synchronous = FULL;")
                    .execute(&mut **c)
                    .await
                {
                    Ok(_) => drop(conn.0.take()),
                    // Closed on drop instead, which rolls back.
                    Err(rollback) => {
                        tracing::warn!(error = %rollback, "rollback after a failed write failed")
                    }
                }
                return Err(e.into());
            }
            // Committed. FULL comes back in a step of its own, so that its failure cannot make
            // a committed batch look failed (and be retried): the connection is closed instead.
            if sync == Durability::Deferred {
                if let Err(e) = sqlx::query("PRAGMA synchronous = FULL")
                    .execute(&mut **c)
                    .await
                {
                    tracing::warn!(error = %e, "the writer could not go back to synchronous = FULL; closing it");
                    return Ok(());
                }
            }
            drop(conn.0.take());
            return Ok(());
        }
        let mut tx = self.writer().begin().await?;
        for (sql, binds) in statements {
            bind_all(sqlx::query(&sql), binds).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn insert_decision_rows(&self, records: &[DecisionRecord]) -> Result<()> {
        self.write_all(decision_inserts(self.dialect(), records), Durability::Full)
            .await
    }

    pub(crate) async fn append_audit_rows(
        &self,
        records: &[AuditRecord],
        hashes: &[(u64, [u8; 32])],
        decisions: &[DecisionRecord],
    ) -> Result<()> {
        self.write_all(
            audit_inserts(self.dialect(), records, hashes, decisions),
            Durability::Full,
        )
        .await
    }

    /// The log's size: one past its last entry. Entries are appended in order without gaps,
    /// so this is their number, read off the primary key's end in O(log n) rather than
    /// counted row by row (`COUNT(*)` took seconds on a log of many millions, at every start).
    pub(crate) async fn audit_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT MAX(seq) AS last FROM audit_entries")
            .fetch_one(self.pool())
            .await?;
        Ok(row
            .try_get::<Option<i64>, _>("last")?
            .map_or(0, |last| last as u64 + 1))
    }

    /// The ids of the tenants that exist now.
    pub(crate) async fn tenant_ids(&self) -> Result<std::collections::HashSet<String>> {
        let rows = sqlx::query("SELECT id FROM tenants")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("id")?))
            .collect()
    }

    pub(crate) async fn read_audit_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>> {
        let mut found = HashMap::with_capacity(indexes.len());
        // Proofs need O(log n) hashes: one query per chunk keeps the statement small.
        for chunk in indexes.chunks(256) {
            let sql = format!(
                "SELECT idx, hash FROM audit_hashes WHERE idx IN {}",
                placeholders(self.dialect(), 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for idx in chunk {
                q = q.bind(*idx as i64);
            }
            for row in q.fetch_all(self.pool()).await? {
                let (idx, hash) = rows::stored_hash(&row)?;
                found.insert(idx, hash);
            }
        }
        indexes
            .iter()
            .map(|i| {
                found
                    .get(i)
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("audit hash {i} is missing")))
            })
            .collect()
    }

    pub(crate) async fn read_audit_entries(
        &self,
        f: &AuditFilter,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let mut cond = Conditions::default();
        if let Some(t) = f.tenant {
            cond.push("tenant_id", "=", Bind::Text(t.to_string()));
        }
        for (column, value) in [
            ("kind", &f.kind),
            ("agent", &f.agent),
            ("tool", &f.tool),
            ("outcome", &f.outcome),
        ] {
            if let Some(v) = value {
                cond.push(column, "=", Bind::Text(v.clone()));
            }
        }
        if let Some(t) = f.since {
            cond.push("created_at", ">=", Bind::Int(millis(t)));
        }
        if let Some(t) = f.until {
            cond.push("created_at", "<", Bind::Int(millis(t)));
        }
        if let Some(a) = after {
            cond.push("seq", ">", Bind::Int(a as i64));
        }
        let sql = format!(
            "SELECT * FROM audit_entries{} ORDER BY seq LIMIT ${}",
            cond.where_sql(),
            cond.next()
        );
        let mut binds = cond.binds;
        binds.push(Bind::Int(limit as i64));
        let rows = crate::sql::bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rows::audit_record).collect()
    }

    pub(crate) async fn read_audit_entry(&self, seq: u64) -> Result<Option<AuditRecord>> {
        let row = sqlx::query("SELECT * FROM audit_entries WHERE seq = $1")
            .bind(seq as i64)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(rows::audit_record).transpose()
    }

    pub(crate) async fn write_checkpoint(&self, c: &StoredCheckpoint) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size) DO UPDATE SET note = excluded.note, created_at = excluded.created_at",
        )
        .bind(c.size as i64)
        .bind(hex::encode(c.root))
        .bind(c.note.clone())
        .bind(millis(c.created_at))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub(crate) async fn read_checkpoint(
        &self,
        size: Option<u64>,
    ) -> Result<Option<StoredCheckpoint>> {
        let row = match size {
            Some(s) => {
                sqlx::query("SELECT * FROM audit_checkpoints WHERE size = $1")
                    .bind(s as i64)
                    .fetch_optional(self.pool())
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
                    .fetch_optional(self.pool())
                    .await?
            }
        };
        row.as_ref().map(rows::checkpoint).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_batch_statements_are_recognised_exactly() {
        let sql = insert_sql(Dialect::Sqlite, HASH_INSERT, 3);
        assert!(is_audit_batch_statement(&sql, 6));
        assert!(!is_audit_batch_statement(&sql, 4));
        assert!(!is_audit_batch_statement(&sql, 8));
        assert!(!is_audit_batch_statement(
            &format!("{sql} ON CONFLICT DO NOTHING"),
            6
        ));
        assert!(!is_audit_batch_statement(
            &insert_sql(Dialect::Postgres, HASH_INSERT, 3),
            6
        ));
        assert!(!is_audit_batch_statement("DELETE FROM audit_hashes", 0));
        let entries = insert_sql(Dialect::Sqlite, ENTRY_INSERT, 100);
        assert!(is_audit_batch_statement(&entries, 900));
    }
}
