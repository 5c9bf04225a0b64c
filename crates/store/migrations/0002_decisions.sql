-- Policy bundles (immutable revisions), their activations, kill switches, and the decision log.
CREATE TABLE policy_revisions (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    revision   TEXT NOT NULL,
    bundle     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, revision)
);

CREATE TABLE policy_activations (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    revision     TEXT NOT NULL,
    activated_by TEXT NOT NULL,
    activated_at BIGINT NOT NULL
);
CREATE INDEX policy_activations_tenant ON policy_activations (tenant_id, id);

CREATE TABLE kills (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    target     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    lifted_at  BIGINT
);

CREATE TABLE decisions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    agent       TEXT NOT NULL,
    tool        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    revision    TEXT NOT NULL,
    input       TEXT NOT NULL,
    result      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    duration_us BIGINT NOT NULL
);
CREATE INDEX decisions_tenant ON decisions (tenant_id, id);
