//! Discovered tools enter Sentinel's inventory: each upstream tool is registered as a tool
//! named `server__tool` (so policy, risk and kill switches apply to it like any other) and its
//! definition is checked against its pin.

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::Tool as McpTool;
use sentinel_core::mcp::namespaced_tool;
use sentinel_core::{ids, McpServer, Risk, Tool, ToolKind};
use sentinel_pipeline::Pipeline;
use sentinel_store::{Store, StoreError};

use crate::pin;
use crate::upstream::OfferedTool;

pub struct Inventory {
    pub store: Arc<dyn Store>,
    pub pipeline: Arc<Pipeline>,
}

impl Inventory {
    /// Pins and registers the tools `server` lists; returns them with their pin state.
    pub async fn reconcile(
        &self,
        server: &McpServer,
        tools: Vec<McpTool>,
    ) -> Result<Vec<OfferedTool>, StoreError> {
        let tenant = server.tenant_id;
        let pins: HashMap<String, _> = self
            .store
            .tool_pins(tenant, &server.name)
            .await?
            .into_iter()
            .map(|p| (p.tool.clone(), p))
            .collect();
        let mut offered = Vec::with_capacity(tools.len());
        let mut registered = false;
        for tool in tools {
            let (update, pinned) =
                pin::reconcile(tenant, &server.name, &tool, pins.get(&*tool.name));
            if let Some(p) = update {
                if !pinned {
                    tracing::warn!(server = %server.name, tool = %tool.name, "MCP tool definition changed; blocked until re-approved");
                }
                self.store.put_tool_pin(&p).await?;
            }
            registered |= self.register(server, &tool).await?;
            offered.push(OfferedTool { tool, pinned });
        }
        if registered {
            self.pipeline.registry_changed();
        }
        Ok(offered)
    }

    /// Registers the tool unless the inventory already has it; `true` when it was added. A new
    /// tool is `critical` (nobody has assessed it) until an operator says otherwise.
    async fn register(&self, server: &McpServer, tool: &McpTool) -> Result<bool, StoreError> {
        let name = namespaced_tool(&server.name, &tool.name);
        if self.store.tool(server.tenant_id, &name).await?.is_some() {
            return Ok(false);
        }
        let now = ids::now();
        let record = Tool {
            id: ids::new_id(),
            tenant_id: server.tenant_id,
            name,
            kind: ToolKind::Mcp,
            server: Some(server.name.clone()),
            url: None,
            owner: None,
            scopes: vec![],
            risk: Risk::Critical,
            metadata: serde_json::json!({"mcp": {
                "upstream_tool": tool.name,
                "description": tool.description,
                "annotations": tool.annotations,
            }}),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        match self.store.insert_tool(&record).await {
            Ok(()) => Ok(true),
            // Another node (or request) registered it first.
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
