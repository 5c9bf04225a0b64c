//! The tenant secret vault: seals credentials before they reach the store and opens them only
//! where an enforcement point injects them into an upstream call (an MCP server's env or
//! headers, an LLM provider's key). Agents never see them.
//!
//! Values are sealed with ChaCha20-Poly1305 under a key derived from the data directory's
//! `secrets.key`, with a fresh random nonce each time. The associated data binds a ciphertext to
//! its tenant and name, so a database row copied onto another secret (or tenant) fails to open
//! instead of leaking one tenant's credential into another's calls.

use std::sync::Arc;

use base64::Engine;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::KeyInit;
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sentinel_core::{ids, SealedSecret, SecretMeta};
use sentinel_store::{Store, StoreError};
use sha2::Sha256;
use uuid::Uuid;

const NONCE_LEN: usize = 12;
const TEMPLATE_OPEN: &str = "${secret:";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {0:?} does not exist in this tenant")]
    Missing(String),
    #[error("unterminated ${{secret:…}} reference in a template")]
    Unterminated,
    /// The sealed value is not one this server's key sealed for this secret: a wrong or
    /// rotated `secrets.key`, or a row moved by hand.
    #[error("secret {0:?} cannot be opened with this server's secrets.key")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Seals, stores and opens tenant secrets.
pub struct SecretVault {
    store: Arc<dyn Store>,
    cipher: ChaCha20Poly1305,
}

impl SecretVault {
    /// A vault over `store`, with its key derived from the 32-byte root key `root`
    /// (`secrets.key`), distinct from the other keys derived from it.
    pub fn new(store: Arc<dyn Store>, root: &[u8; 32]) -> SecretVault {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(root).expect("HMAC takes any key length");
        mac.update(b"sentinel secret vault v1");
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        SecretVault {
            store,
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// Creates or replaces `name` in `tenant`. Returns its metadata, never the value.
    pub async fn put(
        &self,
        tenant: Uuid,
        name: &str,
        value: &str,
        description: Option<String>,
    ) -> Result<SecretMeta, SecretError> {
        let now = ids::now();
        let previous = self.store.secret(tenant, name).await?;
        let meta = SecretMeta {
            tenant_id: tenant,
            name: name.to_string(),
            description: description
                .or_else(|| previous.as_ref().and_then(|p| p.meta.description.clone())),
            version: previous.as_ref().map_or(1, |p| p.meta.version + 1),
            created_at: previous.as_ref().map_or(now, |p| p.meta.created_at),
            updated_at: now,
        };
        let sealed = self.seal(tenant, name, value);
        self.store
            .put_secret(&SealedSecret {
                meta: meta.clone(),
                sealed,
            })
            .await?;
        Ok(meta)
    }

    /// The metadata of a tenant's secrets.
    pub async fn list(&self, tenant: Uuid) -> Result<Vec<SecretMeta>, SecretError> {
        Ok(self.store.secrets(tenant).await?)
    }

    /// The metadata of one secret.
    pub async fn meta(&self, tenant: Uuid, name: &str) -> Result<Option<SecretMeta>, SecretError> {
        Ok(self.store.secret(tenant, name).await?.map(|s| s.meta))
    }

    pub async fn delete(&self, tenant: Uuid, name: &str) -> Result<bool, SecretError> {
        Ok(self.store.delete_secret(tenant, name).await?)
    }

    /// The value of `name` in `tenant`, for injection into an upstream call.
    pub async fn reveal(&self, tenant: Uuid, name: &str) -> Result<Option<String>, SecretError> {
        match self.store.secret(tenant, name).await? {
            None => Ok(None),
            Some(s) => self.open(tenant, name, &s.sealed).map(Some),
        }
    }

    /// Replaces every `${secret:NAME}` in `template` with that secret's value. A template
    /// without references comes back unchanged; a missing secret is an error naming it, so a
    /// misconfigured upstream fails loudly instead of being called without its credential.
    pub async fn expand(&self, tenant: Uuid, template: &str) -> Result<String, SecretError> {
        let mut out = String::with_capacity(template.len());
        for part in parts(template)? {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Secret(name) => out.push_str(
                    &self
                        .reveal(tenant, name)
                        .await?
                        .ok_or_else(|| SecretError::Missing(name.to_string()))?,
                ),
            }
        }
        Ok(out)
    }

    /// The names a template refers to, for checking configuration before it is used.
    pub fn references(template: &str) -> Result<Vec<&str>, SecretError> {
        Ok(parts(template)?
            .into_iter()
            .filter_map(|p| match p {
                Part::Secret(name) => Some(name),
                Part::Text(_) => None,
            })
            .collect())
    }

    fn aad(tenant: Uuid, name: &str) -> Vec<u8> {
        format!("sentinel-secret:{tenant}:{name}").into_bytes()
    }

    fn seal(&self, tenant: Uuid, name: &str, value: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let aad = Self::aad(tenant, name);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("ChaCha20-Poly1305 encrypts any message under 256 GiB");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        base64::engine::general_purpose::STANDARD.encode(sealed)
    }

    fn open(&self, tenant: Uuid, name: &str, sealed: &str) -> Result<String, SecretError> {
        let unreadable = || SecretError::Unreadable(name.to_string());
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| unreadable())?;
        if bytes.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = Self::aad(tenant, name);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| unreadable())?;
        String::from_utf8(plain).map_err(|_| unreadable())
    }
}

/// A piece of a template: literal text, or a `${secret:NAME}` reference.
enum Part<'a> {
    Text(&'a str),
    Secret(&'a str),
}

/// Splits a template into text and references; an unterminated reference is an error.
fn parts(template: &str) -> Result<Vec<Part<'_>>, SecretError> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find(TEMPLATE_OPEN) {
        parts.push(Part::Text(&rest[..start]));
        let after = &rest[start + TEMPLATE_OPEN.len()..];
        let end = after.find('}').ok_or(SecretError::Unterminated)?;
        parts.push(Part::Secret(&after[..end]));
        rest = &after[end + 1..];
    }
    parts.push(Part::Text(rest));
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_core::Tenant;

    async fn vault_with_tenants() -> (tempfile::TempDir, SecretVault, Arc<dyn Store>, Uuid, Uuid) {
        let (dir, url) = sentinel_testkit::sqlite();
        let store = sentinel_store::open(&url).await.unwrap();
        let mut tenants = Vec::new();
        for slug in ["acme", "globex"] {
            let t = Tenant {
                id: sentinel_core::new_id(),
                slug: slug.into(),
                display_name: slug.into(),
                created_at: ids::now(),
            };
            store.insert_tenant(&t).await.unwrap();
            tenants.push(t.id);
        }
        let vault = SecretVault::new(store.clone(), &[7u8; 32]);
        (dir, vault, store, tenants[0], tenants[1])
    }

    #[tokio::test]
    async fn values_are_sealed_at_rest_and_open_again() {
        let (_dir, vault, store, acme, _) = vault_with_tenants().await;
        let meta = vault
            .put(acme, "GITHUB_TOKEN", "ghp_secret123", None)
            .await
            .unwrap();
        assert_eq!(meta.version, 1);
        let row = store.secret(acme, "GITHUB_TOKEN").await.unwrap().unwrap();
        assert!(!row.sealed.contains("ghp_secret123"));
        assert_eq!(
            vault.reveal(acme, "GITHUB_TOKEN").await.unwrap().as_deref(),
            Some("ghp_secret123")
        );
        let meta = vault
            .put(acme, "GITHUB_TOKEN", "ghp_new", Some("rotated".into()))
            .await
            .unwrap();
        assert_eq!(
            (meta.version, meta.description.as_deref()),
            (2, Some("rotated"))
        );
        assert_eq!(
            vault.reveal(acme, "GITHUB_TOKEN").await.unwrap().as_deref(),
            Some("ghp_new")
        );
    }

    #[tokio::test]
    async fn templates_expand_and_name_what_is_missing() {
        let (_dir, vault, _store, acme, globex) = vault_with_tenants().await;
        vault.put(acme, "token", "abc", None).await.unwrap();
        assert_eq!(
            vault
                .expand(acme, "Bearer ${secret:token}; again ${secret:token}")
                .await
                .unwrap(),
            "Bearer abc; again abc"
        );
        assert_eq!(vault.expand(acme, "plain").await.unwrap(), "plain");
        match vault.expand(globex, "Bearer ${secret:token}").await {
            Err(SecretError::Missing(name)) => assert_eq!(name, "token"),
            other => panic!("another tenant's secret must not resolve: {other:?}"),
        }
        assert!(matches!(
            vault.expand(acme, "${secret:token").await,
            Err(SecretError::Unterminated)
        ));
        assert_eq!(
            SecretVault::references("a ${secret:x} ${secret:y}").unwrap(),
            ["x", "y"]
        );
    }

    #[tokio::test]
    async fn a_sealed_value_moved_to_another_tenant_or_opened_with_another_key_fails() {
        let (_dir, vault, store, acme, globex) = vault_with_tenants().await;
        vault.put(acme, "token", "abc", None).await.unwrap();
        let mut row = store.secret(acme, "token").await.unwrap().unwrap();
        row.meta.tenant_id = globex;
        store.put_secret(&row).await.unwrap();
        assert!(matches!(
            vault.reveal(globex, "token").await,
            Err(SecretError::Unreadable(_))
        ));
        let other = SecretVault::new(store.clone(), &[8u8; 32]);
        assert!(matches!(
            other.reveal(acme, "token").await,
            Err(SecretError::Unreadable(_))
        ));
    }
}
