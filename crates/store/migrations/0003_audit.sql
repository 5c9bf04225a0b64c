-- The audit log: canonical entries (RFC 8785 JSON), the RFC 6962 tree's stored hashes in
-- Go sumdb/tlog's layout (so proofs cost O(log n) reads), and signed checkpoints. Append-only;
-- no foreign keys, so deleting a tenant never removes its history.
CREATE TABLE audit_entries (
    seq        BIGINT PRIMARY KEY,
    tenant_id  TEXT,
    kind       TEXT NOT NULL,
    agent      TEXT,
    tool       TEXT,
    outcome    TEXT,
    created_at BIGINT NOT NULL,
    entry      TEXT NOT NULL,
    leaf_hash  TEXT NOT NULL
);
CREATE INDEX audit_entries_tenant ON audit_entries (tenant_id, seq);

CREATE TABLE audit_hashes (
    idx  BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);

CREATE TABLE audit_checkpoints (
    size       BIGINT PRIMARY KEY,
    root       TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
