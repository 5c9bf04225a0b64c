-- Tenant secrets, sealed (encrypted) by the server before they reach the database. `record`
-- holds the metadata as JSON; `sealed` the encrypted value, which the store never reads.
CREATE TABLE secrets (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    record    TEXT NOT NULL,
    sealed    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
