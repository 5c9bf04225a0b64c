-- The MCP gateway: each tenant's upstream MCP servers, and the pinned definitions of the tools
-- they offer. The full record is kept as JSON in `record`; the columns beside it are the ones
-- queries filter on.
CREATE TABLE mcp_servers (
    id        TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    record    TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE mcp_tool_pins (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    server    TEXT NOT NULL,
    tool      TEXT NOT NULL,
    record    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, server, tool)
);
