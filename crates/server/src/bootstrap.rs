//! First start: the data directory and the first admin key.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use sentinel_core::{ApiKey, IssuedApiKey, Role};
use sentinel_store::Store;

use crate::auth::secret;

/// Creates the data directory, readable only by its owner.
pub fn create_data_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Makes sure an admin key exists. On first start it creates one, writes it to `path` (mode
/// 0600) and returns it so the caller can print it once; afterwards it returns `None`.
pub async fn ensure_admin_key(store: &dyn Store, path: &Path) -> anyhow::Result<Option<String>> {
    let existing = store
        .list_api_keys(None, sentinel_core::PageRequest::default())
        .await?;
    if existing.items.iter().any(|k| k.revoked_at.is_none()) {
        return Ok(None);
    }
    let issued = issue_key(store, None, Role::Admin, None, "bootstrap admin").await?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    writeln!(file, "{}", issued.secret)?;
    Ok(Some(issued.secret))
}

/// Creates and stores a new key; the returned secret is never stored.
pub async fn issue_key(
    store: &dyn Store,
    tenant_id: Option<uuid::Uuid>,
    role: Role,
    agent_id: Option<uuid::Uuid>,
    name: &str,
) -> Result<IssuedApiKey, sentinel_store::StoreError> {
    let generated = secret::generate();
    let key = ApiKey {
        id: generated.id,
        tenant_id,
        role,
        agent_id,
        name: name.to_string(),
        secret_hash: generated.digest,
        created_at: sentinel_core::ids::now(),
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_api_key(&key).await?;
    Ok(IssuedApiKey {
        key,
        secret: generated.text,
    })
}
