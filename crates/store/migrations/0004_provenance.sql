-- Signed provenance manifests (DSSE envelopes), one per executed decision.
CREATE TABLE provenance (
    decision_id TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    envelope    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
