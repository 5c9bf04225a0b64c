//! Approval requests, webhooks and webhook deliveries. Each row keeps its whole record as JSON
//! beside the columns that queries filter on, so the record can grow without migrations.

use sentinel_core::*;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::filters::{Bind, Conditions};
use crate::rows::millis;
use crate::sql::bind_all;
use crate::{ApprovalFilter, Result, SqlStore, StoreError};

pub(crate) fn record<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<T> {
    let text: String = row.try_get("record")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("record column: {e}")))
}

pub(crate) fn to_json(v: &impl serde::Serialize) -> Bind {
    Bind::Text(serde_json::to_string(v).expect("records serialize"))
}

pub(crate) fn text(s: impl Into<String>) -> Bind {
    Bind::Text(s.into())
}

impl SqlStore {
    pub(crate) async fn rows(&self, sql: &str, binds: Vec<Bind>) -> Result<Vec<AnyRow>> {
        Ok(bind_all(sqlx::query(sql), binds)
            .fetch_all(self.pool())
            .await?)
    }

    /// The JSON records a `SELECT record …` returns.
    pub(crate) async fn records<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        binds: Vec<Bind>,
    ) -> Result<Vec<T>> {
        self.rows(sql, binds).await?.iter().map(record).collect()
    }

    pub(crate) async fn insert_approval_row(&self, a: &Approval) -> Result<()> {
        self.execute(
            "INSERT INTO approvals (id, tenant_id, agent_id, agent, tool, status, action_digest, \
             expires_at, version, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                text(a.id.to_string()),
                text(a.tenant_id.to_string()),
                text(a.agent_id.to_string()),
                text(&a.agent),
                text(&a.tool),
                text(a.status.as_str()),
                text(&a.action_digest),
                Bind::Int(millis(a.expires_at)),
                Bind::Int(a.version as i64),
                to_json(a),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn approval_row(&self, id: Uuid) -> Result<Option<Approval>> {
        let rows = self
            .rows(
                "SELECT record FROM approvals WHERE id = $1",
                vec![text(id.to_string())],
            )
            .await?;
        rows.first().map(record).transpose()
    }

    pub(crate) async fn approval_rows(
        &self,
        tenant: Uuid,
        filter: &ApprovalFilter,
        page: PageRequest,
    ) -> Result<Page<Approval>> {
        let mut cond = Conditions::default();
        cond.push("tenant_id", "=", text(tenant.to_string()));
        if let Some(s) = filter.status {
            cond.push("status", "=", text(s.as_str()));
        }
        if let Some(a) = &filter.agent {
            cond.push("agent", "=", text(a));
        }
        if let Some(t) = &filter.tool {
            cond.push("tool", "=", text(t));
        }
        self.record_page("approvals", cond, page, |a: &Approval| a.id)
            .await
    }

    /// One page of the JSON records of `table` matching `cond`, in id order.
    async fn record_page<T: serde::de::DeserializeOwned>(
        &self,
        table: &str,
        mut cond: Conditions,
        page: PageRequest,
        id_of: fn(&T) -> Uuid,
    ) -> Result<Page<T>> {
        if let Some(after) = page.after {
            cond.push("id", ">", text(after.to_string()));
        }
        let sql = format!(
            "SELECT record FROM {table}{} ORDER BY id LIMIT ${}",
            cond.where_sql(),
            cond.next()
        );
        let mut binds = cond.binds;
        binds.push(Bind::Int(page.limit as i64 + 1));
        let items = self
            .rows(&sql, binds)
            .await?
            .iter()
            .map(record)
            .collect::<Result<Vec<T>>>()?;
        Ok(Page::from_overfetch(items, page.limit, id_of))
    }

    pub(crate) async fn pending_approval_row(
        &self,
        tenant: Uuid,
        agent: Uuid,
        digest: &str,
    ) -> Result<Option<Approval>> {
        let rows = self
            .rows(
                "SELECT record FROM approvals WHERE tenant_id = $1 AND agent_id = $2 \
                 AND action_digest = $3 AND status = 'pending' ORDER BY id LIMIT 1",
                vec![
                    text(tenant.to_string()),
                    text(agent.to_string()),
                    text(digest),
                ],
            )
            .await?;
        rows.first().map(record).transpose()
    }

    pub(crate) async fn update_approval_row(&self, a: &Approval, expected: u32) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE approvals SET status = $1, expires_at = $2, version = $3, record = $4 \
                 WHERE id = $5 AND version = $6",
                vec![
                    text(a.status.as_str()),
                    Bind::Int(millis(a.expires_at)),
                    Bind::Int(a.version as i64),
                    to_json(a),
                    text(a.id.to_string()),
                    Bind::Int(expected as i64),
                ],
            )
            .await?;
        Ok(n > 0)
    }

    pub(crate) async fn due_approval_rows(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>> {
        self.records(
            "SELECT record FROM approvals WHERE status = 'pending' AND expires_at <= $1 \
             ORDER BY expires_at LIMIT $2",
            vec![Bind::Int(millis(now)), Bind::Int(limit as i64)],
        )
        .await
    }

    pub(crate) async fn insert_webhook_row(&self, w: &Webhook) -> Result<()> {
        self.execute(
            "INSERT INTO webhooks (id, tenant_id, name, record) VALUES ($1, $2, $3, $4)",
            vec![
                text(w.id.to_string()),
                text(w.tenant_id.to_string()),
                text(&w.name),
                to_json(w),
            ],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(format!("webhook {:?}", w.name)),
            e => e,
        })?;
        Ok(())
    }

    pub(crate) async fn update_webhook_row(&self, w: &Webhook) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE webhooks SET name = $1, record = $2 WHERE id = $3 AND tenant_id = $4",
                vec![
                    text(&w.name),
                    to_json(w),
                    text(w.id.to_string()),
                    text(w.tenant_id.to_string()),
                ],
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict(format!("webhook {:?}", w.name)),
                e => e,
            })?;
        Ok(n > 0)
    }

    pub(crate) async fn delete_webhook_row(&self, tenant: Uuid, id: Uuid) -> Result<bool> {
        Ok(self
            .execute(
                "DELETE FROM webhooks WHERE id = $1 AND tenant_id = $2",
                vec![text(id.to_string()), text(tenant.to_string())],
            )
            .await?
            > 0)
    }

    pub(crate) async fn webhook_rows(&self, tenant: Uuid) -> Result<Vec<Webhook>> {
        self.rows(
            "SELECT record FROM webhooks WHERE tenant_id = $1 ORDER BY id",
            vec![text(tenant.to_string())],
        )
        .await?
        .iter()
        .map(record)
        .collect()
    }

    pub(crate) async fn insert_delivery_rows(&self, deliveries: &[Delivery]) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        for d in deliveries {
            let q = sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook_id, tenant_id, status, next_attempt_at, record) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            );
            bind_all(q, delivery_binds(d)).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn update_delivery_row(&self, d: &Delivery) -> Result<()> {
        let mut binds = delivery_binds(d);
        binds.remove(0);
        binds.remove(0);
        binds.remove(0);
        binds.push(text(d.id.to_string()));
        self.execute(
            "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, record = $3 WHERE id = $4",
            binds,
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn lease_delivery_row(
        &self,
        id: Uuid,
        expected: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE webhook_deliveries SET next_attempt_at = $1 \
                 WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
                vec![
                    Bind::Int(millis(until)),
                    text(id.to_string()),
                    Bind::Int(millis(expected)),
                ],
            )
            .await?;
        Ok(n > 0)
    }

    pub(crate) async fn due_delivery_rows(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        self.records(
            "SELECT record FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at LIMIT $2",
            vec![Bind::Int(millis(now)), Bind::Int(limit as i64)],
        )
        .await
    }

    pub(crate) async fn delivery_rows(
        &self,
        tenant: Uuid,
        webhook: Uuid,
        page: PageRequest,
    ) -> Result<Page<Delivery>> {
        let mut cond = Conditions::default();
        cond.push("tenant_id", "=", text(tenant.to_string()));
        cond.push("webhook_id", "=", text(webhook.to_string()));
        self.record_page("webhook_deliveries", cond, page, |d: &Delivery| d.id)
            .await
    }
}

/// id, webhook_id, tenant_id, status, next_attempt_at, record — in that order.
fn delivery_binds(d: &Delivery) -> Vec<Bind> {
    let status = match d.status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
    };
    vec![
        text(d.id.to_string()),
        text(d.webhook_id.to_string()),
        text(d.tenant_id.to_string()),
        text(status),
        Bind::Int(millis(d.next_attempt_at)),
        to_json(d),
    ]
}
