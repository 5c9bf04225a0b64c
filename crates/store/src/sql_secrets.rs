//! Tenant secrets: metadata as JSON beside the sealed value. Sealing and opening happen in the
//! pipeline's `SecretVault`; the store only keeps the bytes.

use sentinel_core::{SealedSecret, SecretMeta};
use sqlx::Row;
use uuid::Uuid;

use crate::sql_approvals::{record, text, to_json};
use crate::{Result, SqlStore};

impl SqlStore {
    pub(crate) async fn put_secret_row(&self, secret: &SealedSecret) -> Result<()> {
        self.execute(
            "INSERT INTO secrets (tenant_id, name, record, sealed) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET record = excluded.record, \
             sealed = excluded.sealed",
            vec![
                text(secret.meta.tenant_id.to_string()),
                text(&secret.meta.name),
                to_json(&secret.meta),
                text(&secret.sealed),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn secret_row(
        &self,
        tenant: Uuid,
        name: &str,
    ) -> Result<Option<SealedSecret>> {
        let rows = self
            .rows(
                "SELECT record, sealed FROM secrets WHERE tenant_id = $1 AND name = $2",
                vec![text(tenant.to_string()), text(name)],
            )
            .await?;
        rows.first()
            .map(|row| {
                Ok(SealedSecret {
                    meta: record(row)?,
                    sealed: row.try_get("sealed")?,
                })
            })
            .transpose()
    }

    pub(crate) async fn secret_rows(&self, tenant: Uuid) -> Result<Vec<SecretMeta>> {
        self.records(
            "SELECT record FROM secrets WHERE tenant_id = $1 ORDER BY name",
            vec![text(tenant.to_string())],
        )
        .await
    }

    pub(crate) async fn delete_secret_row(&self, tenant: Uuid, name: &str) -> Result<bool> {
        Ok(self
            .execute(
                "DELETE FROM secrets WHERE tenant_id = $1 AND name = $2",
                vec![text(tenant.to_string()), text(name)],
            )
            .await?
            > 0)
    }
}
