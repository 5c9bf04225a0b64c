//! The MCP gateway's upstream servers and tool pins. Like approvals, each row keeps its whole
//! record as JSON beside the columns that queries filter on.

use sentinel_core::{McpServer, ToolPin};
use uuid::Uuid;

use crate::sql_approvals::{text, to_json};
use crate::{Result, SqlStore, StoreError};

impl SqlStore {
    pub(crate) async fn insert_mcp_server_row(&self, s: &McpServer) -> Result<()> {
        self.execute(
            "INSERT INTO mcp_servers (id, tenant_id, name, record) VALUES ($1, $2, $3, $4)",
            vec![
                text(s.id.to_string()),
                text(s.tenant_id.to_string()),
                text(&s.name),
                to_json(s),
            ],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(format!("MCP server {:?}", s.name)),
            e => e,
        })?;
        Ok(())
    }

    pub(crate) async fn update_mcp_server_row(&self, s: &McpServer) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE mcp_servers SET record = $1 WHERE id = $2 AND tenant_id = $3",
                vec![
                    to_json(s),
                    text(s.id.to_string()),
                    text(s.tenant_id.to_string()),
                ],
            )
            .await?;
        Ok(n > 0)
    }

    pub(crate) async fn delete_mcp_server_row(&self, tenant: Uuid, id: Uuid) -> Result<bool> {
        let n = self
            .execute(
                "DELETE FROM mcp_servers WHERE id = $1 AND tenant_id = $2",
                vec![text(id.to_string()), text(tenant.to_string())],
            )
            .await?;
        Ok(n > 0)
    }

    pub(crate) async fn mcp_server_rows(&self, tenant: Uuid) -> Result<Vec<McpServer>> {
        self.records(
            "SELECT record FROM mcp_servers WHERE tenant_id = $1 ORDER BY name",
            vec![text(tenant.to_string())],
        )
        .await
    }

    pub(crate) async fn put_tool_pin_row(&self, pin: &ToolPin) -> Result<()> {
        self.execute(
            "INSERT INTO mcp_tool_pins (tenant_id, server, tool, record) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, server, tool) DO UPDATE SET record = excluded.record",
            vec![
                text(pin.tenant_id.to_string()),
                text(&pin.server),
                text(&pin.tool),
                to_json(pin),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn tool_pin_rows(&self, tenant: Uuid, server: &str) -> Result<Vec<ToolPin>> {
        self.records(
            "SELECT record FROM mcp_tool_pins WHERE tenant_id = $1 AND server = $2 ORDER BY tool",
            vec![text(tenant.to_string()), text(server)],
        )
        .await
    }

    pub(crate) async fn delete_tool_pin_rows(&self, tenant: Uuid, server: &str) -> Result<u64> {
        self.execute(
            "DELETE FROM mcp_tool_pins WHERE tenant_id = $1 AND server = $2",
            vec![text(tenant.to_string()), text(server)],
        )
        .await
    }
}
