//! Converting between records and the portable column types (text, bigint, boolean) that both
//! dialects share through sqlx's `Any` driver.

use std::str::FromStr;

use sentinel_core::*;
use sqlx::{any::AnyRow, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

pub(crate) fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn time_of(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {ms}: {e}")))
}

fn uuid_of(s: &str) -> Result<Uuid, StoreError> {
    Uuid::from_str(s).map_err(|e| StoreError::Corrupt(format!("id {s:?}: {e}")))
}

/// Enums are stored as their JSON string form, so the store and the API agree on spelling.
pub(crate) fn enum_text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => unreachable!("registry enums serialize to strings"),
    }
}

fn enum_of<T: serde::de::DeserializeOwned>(s: String) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.clone()))
        .map_err(|_| StoreError::Corrupt(format!("unknown value {s:?}")))
}

fn json_of<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("json column: {e}")))
}

fn opt_text(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

pub(crate) fn tenant(row: &AnyRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: uuid_of(&row.try_get::<String, _>("id")?)?,
        slug: row.try_get("slug")?,
        display_name: row.try_get("display_name")?,
        created_at: time_of(row.try_get("created_at")?)?,
    })
}

pub(crate) fn agent(row: &AnyRow) -> Result<Agent, StoreError> {
    Ok(Agent {
        id: uuid_of(&row.try_get::<String, _>("id")?)?,
        tenant_id: uuid_of(&row.try_get::<String, _>("tenant_id")?)?,
        name: row.try_get("name")?,
        framework: row.try_get("framework")?,
        owner: row.try_get("owner")?,
        description: row.try_get("description")?,
        status: enum_of(row.try_get("status")?)?,
        labels: json_of(&row.try_get::<String, _>("labels")?)?,
        created_at: time_of(row.try_get("created_at")?)?,
        updated_at: time_of(row.try_get("updated_at")?)?,
    })
}

pub(crate) fn tool(row: &AnyRow) -> Result<Tool, StoreError> {
    Ok(Tool {
        id: uuid_of(&row.try_get::<String, _>("id")?)?,
        tenant_id: uuid_of(&row.try_get::<String, _>("tenant_id")?)?,
        name: row.try_get("name")?,
        kind: enum_of(row.try_get("kind")?)?,
        // The empty string stands for "no server" so that the unique key works in both dialects.
        server: opt_text(row.try_get("server")?),
        url: row.try_get("url")?,
        owner: row.try_get("owner")?,
        scopes: json_of(&row.try_get::<String, _>("scopes")?)?,
        risk: enum_of(row.try_get("risk")?)?,
        metadata: json_of(&row.try_get::<String, _>("metadata")?)?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: time_of(row.try_get("created_at")?)?,
        updated_at: time_of(row.try_get("updated_at")?)?,
    })
}

pub(crate) fn api_key(row: &AnyRow) -> Result<ApiKey, StoreError> {
    let hash_hex: String = row.try_get("secret_hash")?;
    let mut secret_hash = [0u8; 32];
    hex::decode_to_slice(&hash_hex, &mut secret_hash)
        .map_err(|e| StoreError::Corrupt(format!("key hash: {e}")))?;
    let role: String = row.try_get("role")?;
    Ok(ApiKey {
        id: uuid_of(&row.try_get::<String, _>("id")?)?,
        tenant_id: row
            .try_get::<Option<String>, _>("tenant_id")?
            .as_deref()
            .map(uuid_of)
            .transpose()?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        agent_id: row
            .try_get::<Option<String>, _>("agent_id")?
            .as_deref()
            .map(uuid_of)
            .transpose()?,
        name: row.try_get("name")?,
        secret_hash,
        created_at: time_of(row.try_get("created_at")?)?,
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(time_of)
            .transpose()?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(time_of)
            .transpose()?,
    })
}

pub(crate) fn policy_revision(row: &AnyRow) -> Result<PolicyRevision, StoreError> {
    Ok(PolicyRevision {
        revision: row.try_get("revision")?,
        bundle: json_of(&row.try_get::<String, _>("bundle")?)?,
        created_at: time_of(row.try_get("created_at")?)?,
    })
}

pub(crate) fn activation(row: &AnyRow) -> Result<PolicyActivation, StoreError> {
    Ok(PolicyActivation {
        revision: row.try_get("revision")?,
        activated_by: row.try_get("activated_by")?,
        activated_at: time_of(row.try_get("activated_at")?)?,
    })
}

pub(crate) fn kill(row: &AnyRow) -> Result<Kill, StoreError> {
    Ok(Kill {
        id: uuid_of(&row.try_get::<String, _>("id")?)?,
        tenant_id: uuid_of(&row.try_get::<String, _>("tenant_id")?)?,
        scope: enum_of(row.try_get("scope")?)?,
        target: row.try_get("target")?,
        reason: row.try_get("reason")?,
        created_by: row.try_get("created_by")?,
        created_at: time_of(row.try_get("created_at")?)?,
        lifted_at: row
            .try_get::<Option<i64>, _>("lifted_at")?
            .map(time_of)
            .transpose()?,
    })
}

pub(crate) fn decision(row: &AnyRow) -> Result<DecisionRecord, StoreError> {
    Ok(DecisionRecord {
        decision_id: uuid_of(&row.try_get::<String, _>("id")?)?,
        tenant_id: uuid_of(&row.try_get::<String, _>("tenant_id")?)?,
        agent: row.try_get("agent")?,
        tool: row.try_get("tool")?,
        outcome: row.try_get("outcome")?,
        revision: row.try_get("revision")?,
        input: json_of(&row.try_get::<String, _>("input")?)?,
        result: json_of(&row.try_get::<String, _>("result")?)?,
        timestamp: time_of(row.try_get("created_at")?)?,
        duration_us: row.try_get::<i64, _>("duration_us")? as u64,
    })
}

fn hash_of(hex_text: &str) -> Result<[u8; 32], StoreError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out)
        .map_err(|e| StoreError::Corrupt(format!("hash: {e}")))?;
    Ok(out)
}

pub(crate) fn audit_record(row: &AnyRow) -> Result<crate::AuditRecord, StoreError> {
    Ok(crate::AuditRecord {
        seq: row.try_get::<i64, _>("seq")? as u64,
        tenant_id: row
            .try_get::<Option<String>, _>("tenant_id")?
            .as_deref()
            .map(uuid_of)
            .transpose()?,
        kind: row.try_get("kind")?,
        agent: row.try_get("agent")?,
        tool: row.try_get("tool")?,
        outcome: row.try_get("outcome")?,
        created_at: time_of(row.try_get("created_at")?)?,
        entry: row.try_get("entry")?,
        leaf_hash: hash_of(&row.try_get::<String, _>("leaf_hash")?)?,
    })
}

pub(crate) fn checkpoint(row: &AnyRow) -> Result<crate::StoredCheckpoint, StoreError> {
    Ok(crate::StoredCheckpoint {
        size: row.try_get::<i64, _>("size")? as u64,
        root: hash_of(&row.try_get::<String, _>("root")?)?,
        note: row.try_get("note")?,
        created_at: time_of(row.try_get("created_at")?)?,
    })
}

pub(crate) fn stored_hash(row: &AnyRow) -> Result<(u64, [u8; 32]), StoreError> {
    Ok((
        row.try_get::<i64, _>("idx")? as u64,
        hash_of(&row.try_get::<String, _>("hash")?)?,
    ))
}
