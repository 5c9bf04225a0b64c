//! The LLM gateway's usage log: batched inserts, time-bucketed reports and budget sums.

use sentinel_core::{LlmUsage, UsageQuery, UsageRow};
use sqlx::Row;
use uuid::Uuid;

use crate::filters::Bind;
use crate::rows::millis;
use crate::sql::{bind_all, placeholders};
use crate::{Result, SqlStore};

impl SqlStore {
    pub(crate) async fn insert_llm_usage_rows(&self, rows: &[LlmUsage]) -> Result<()> {
        // Multi-row INSERTs, as for the audit log: a batch is a few statements, not one per row,
        // written as one transaction (one trip to SQLite's worker thread).
        let statements = rows
            .chunks(50)
            .map(|chunk| {
                let sql = format!(
                    "INSERT INTO llm_usage (id, tenant_id, agent, model, deployment, endpoint, \
                     prompt_tokens, completion_tokens, cost_micros, status, latency_ms, \
                     created_at) VALUES {}",
                    placeholders(self.dialect(), chunk.len(), 12)
                );
                let mut binds = Vec::with_capacity(chunk.len() * 12);
                for r in chunk {
                    binds.extend([
                        Bind::Text(r.id.to_string()),
                        Bind::Text(r.tenant_id.to_string()),
                        Bind::Text(r.agent.clone()),
                        Bind::Text(r.model.clone()),
                        Bind::Text(r.deployment.clone()),
                        Bind::Text(r.endpoint.clone()),
                        Bind::Int(r.prompt_tokens as i64),
                        Bind::Int(r.completion_tokens as i64),
                        Bind::Int(r.cost_micros as i64),
                        Bind::Int(r.status as i64),
                        Bind::Int(r.latency_ms as i64),
                        Bind::Int(millis(r.created_at)),
                    ]);
                }
                (sql, binds)
            })
            .collect();
        self.write_all(statements, crate::sql_audit::Durability::Full)
            .await
    }

    pub(crate) async fn llm_usage_report(
        &self,
        tenant: Uuid,
        q: &UsageQuery,
    ) -> Result<Vec<UsageRow>> {
        // Integer division buckets the same way in both dialects (UTC, epoch-aligned).
        let agent = if q.by_agent {
            "agent"
        } else {
            "CAST('*' AS TEXT)"
        };
        let model = if q.by_model {
            "model"
        } else {
            "CAST('*' AS TEXT)"
        };
        let mut sql = format!(
            "SELECT (created_at / $1) * $1 AS bucket, {agent} AS agent, {model} AS model, \
             COUNT(*) AS requests, CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens, \
             CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens, \
             CAST(SUM(cost_micros) AS BIGINT) AS cost_micros \
             FROM llm_usage WHERE tenant_id = $2 AND created_at >= $3 AND created_at < $4"
        );
        let mut binds = vec![
            Bind::Int(q.period.millis()),
            Bind::Text(tenant.to_string()),
            Bind::Int(millis(q.since)),
            Bind::Int(millis(q.until)),
        ];
        if let Some(a) = &q.agent {
            sql.push_str(" AND agent = $5");
            binds.push(Bind::Text(a.clone()));
        }
        sql.push_str(" GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LIMIT 10000");
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let bucket: i64 = row.try_get("bucket")?;
                let at = time::OffsetDateTime::from_unix_timestamp(bucket / 1000)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                Ok(UsageRow {
                    bucket: at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    agent: row.try_get("agent")?,
                    model: row.try_get("model")?,
                    requests: row.try_get::<i64, _>("requests")? as u64,
                    prompt_tokens: row.try_get::<i64, _>("prompt_tokens")? as u64,
                    completion_tokens: row.try_get::<i64, _>("completion_tokens")? as u64,
                    cost_usd: row.try_get::<i64, _>("cost_micros")? as f64 / 1e6,
                })
            })
            .collect()
    }

    pub(crate) async fn llm_spend_since(
        &self,
        tenant: Uuid,
        agent: Option<&str>,
        since: time::OffsetDateTime,
    ) -> Result<u64> {
        let mut sql =
            "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS spent FROM llm_usage \
                       WHERE tenant_id = $1 AND created_at >= $2"
                .to_string();
        let mut binds = vec![Bind::Text(tenant.to_string()), Bind::Int(millis(since))];
        if let Some(a) = agent {
            sql.push_str(" AND agent = $3");
            binds.push(Bind::Text(a.to_string()));
        }
        let row = bind_all(sqlx::query(&sql), binds)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("spent")?.max(0) as u64)
    }
}
