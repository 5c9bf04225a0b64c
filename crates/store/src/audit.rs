//! Records of the audit log as the store keeps them.

use time::OffsetDateTime;
use uuid::Uuid;

/// One appended entry: its canonical bytes plus the columns that list queries filter on.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub seq: u64,
    pub tenant_id: Option<Uuid>,
    pub kind: String,
    pub agent: Option<String>,
    pub tool: Option<String>,
    pub outcome: Option<String>,
    pub created_at: OffsetDateTime,
    /// The canonical JSON of the entry: exactly the bytes that were hashed.
    pub entry: String,
    pub leaf_hash: [u8; 32],
}

/// Filters for listing audit entries.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub tenant: Option<Uuid>,
    pub kind: Option<String>,
    pub agent: Option<String>,
    pub tool: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: [u8; 32],
    /// The C2SP signed note.
    pub note: String,
    pub created_at: OffsetDateTime,
}
