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

/// Reads a 32-byte secret key from `path`, creating it (mode 0600) on first use.
pub fn load_or_create_key(path: &Path) -> std::io::Result<[u8; 32]> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() == 32 => Ok(bytes.try_into().expect("32 bytes")),
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not a 32-byte key", path.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)?;
            file.write_all(&key)?;
            file.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

/// Loads the audit log's Ed25519 signing key from `path`, creating it (mode 0600) with the
/// note name `origin` on first start. The key's own name wins over `origin` afterwards, so a
/// log keeps one identity.
pub fn load_or_create_signer(
    path: &Path,
    origin: &str,
) -> anyhow::Result<sentinel_audit::note::NoteSigner> {
    use sentinel_audit::note::NoteSigner;
    if path.exists() {
        return NoteSigner::load(path)
            .map_err(|e| anyhow::anyhow!("audit signing key {}: {e}", path.display()));
    }
    let signer = NoteSigner::generate(origin)
        .map_err(|e| anyhow::anyhow!("audit origin {origin:?}: {e}"))?;
    signer
        .save(path)
        .map_err(|e| anyhow::anyhow!("saving {}: {e}", path.display()))?;
    tracing::info!(verifier_key = %signer.verifier().to_key_string(), "created the audit log signing key");
    Ok(signer)
}
