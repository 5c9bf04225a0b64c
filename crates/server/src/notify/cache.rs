//! Each tenant's webhooks, kept in memory so that routing an event costs no query.
//!
//! Changes made through this node forget the tenant's entry at once; entries also expire after
//! [`TTL`], so that changes made through another cluster node arrive within it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sentinel_core::Webhook;
use sentinel_store::{Store, StoreError};
use uuid::Uuid;

pub const TTL: Duration = Duration::from_secs(30);

/// A tenant's webhooks and when they were read.
type Entry = (Instant, Arc<[Webhook]>);

#[derive(Default)]
pub struct WebhookCache {
    entries: RwLock<HashMap<Uuid, Entry>>,
    /// Bumped by every [`WebhookCache::forget`]: a read that started before a change must not
    /// put its stale answer back after the change forgot the entry.
    generation: AtomicU64,
}

impl WebhookCache {
    /// The webhooks of `tenant`, from memory when fresh.
    pub async fn of(&self, store: &dyn Store, tenant: Uuid) -> Result<Arc<[Webhook]>, StoreError> {
        if let Some((at, hooks)) = self.entries.read().unwrap().get(&tenant) {
            if at.elapsed() < TTL {
                return Ok(hooks.clone());
            }
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let hooks: Arc<[Webhook]> = store.webhooks(tenant).await?.into();
        let mut entries = self.entries.write().unwrap();
        if self.generation.load(Ordering::SeqCst) == generation {
            entries.insert(tenant, (Instant::now(), hooks.clone()));
        }
        Ok(hooks)
    }

    /// One webhook of `tenant`.
    pub async fn find(
        &self,
        store: &dyn Store,
        tenant: Uuid,
        id: Uuid,
    ) -> Result<Option<Webhook>, StoreError> {
        Ok(self
            .of(store, tenant)
            .await?
            .iter()
            .find(|h| h.id == id)
            .cloned())
    }

    pub fn forget(&self, tenant: Uuid) {
        let mut entries = self.entries.write().unwrap();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.remove(&tenant);
    }
}
