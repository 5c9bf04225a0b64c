-- Approval requests, webhook targets and their delivery log. The full record is kept as JSON in
-- `record`; the columns beside it are the ones queries filter and order on.
CREATE TABLE approvals (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL,
    agent         TEXT NOT NULL,
    tool          TEXT NOT NULL,
    status        TEXT NOT NULL,
    action_digest TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    record        TEXT NOT NULL
);
CREATE INDEX approvals_tenant ON approvals (tenant_id, status, id);
CREATE INDEX approvals_due ON approvals (status, expires_at);
CREATE INDEX approvals_digest ON approvals (tenant_id, agent_id, action_digest, status);

CREATE TABLE webhooks (
    id        TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    record    TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    record          TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
