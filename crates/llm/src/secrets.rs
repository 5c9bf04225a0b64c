//! Provider keys from the tenant secret store. A deployment's `api_key` is a template;
//! `${secret:NAME}` is expanded for the calling tenant. Expanded keys are kept for a short
//! while so that the request path does not read and decrypt a secret on every call; a rotated
//! secret is picked up within [`KEY_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sentinel_pipeline::SecretVault;
use uuid::Uuid;

/// How long an expanded provider key is reused.
pub const KEY_TTL: Duration = Duration::from_secs(30);

/// Where provider keys come from.
#[async_trait::async_trait]
pub trait SecretSource: Send + Sync {
    async fn expand(&self, tenant: Uuid, template: &str) -> Result<String, String>;
}

/// The tenant secret store, with expanded templates cached for [`KEY_TTL`].
pub struct VaultKeys {
    vault: Arc<SecretVault>,
    cache: Mutex<HashMap<(Uuid, String), (Instant, String)>>,
}

impl VaultKeys {
    pub fn new(vault: Arc<SecretVault>) -> VaultKeys {
        VaultKeys {
            vault,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl SecretSource for VaultKeys {
    async fn expand(&self, tenant: Uuid, template: &str) -> Result<String, String> {
        if !template.contains("${secret:") {
            return Ok(template.to_string());
        }
        let key = (tenant, template.to_string());
        if let Some((at, value)) = self.cache.lock().unwrap().get(&key) {
            if at.elapsed() < KEY_TTL {
                return Ok(value.clone());
            }
        }
        let value = self
            .vault
            .expand(tenant, template)
            .await
            .map_err(|e| e.to_string())?;
        self.cache
            .lock()
            .unwrap()
            .insert(key, (Instant::now(), value.clone()));
        Ok(value)
    }
}

/// No secret store: templates without `${secret:…}` pass unchanged; others are an error.
pub struct NoSecrets;

#[async_trait::async_trait]
impl SecretSource for NoSecrets {
    async fn expand(&self, _tenant: Uuid, template: &str) -> Result<String, String> {
        if template.contains("${secret:") {
            Err("no secret store is configured to expand the provider key".into())
        } else {
            Ok(template.to_string())
        }
    }
}
