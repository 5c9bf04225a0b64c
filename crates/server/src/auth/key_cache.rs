//! Verified API keys, kept in memory for a few seconds.
//!
//! `/v1/check` must not pay a database round trip per call. A key's record is cached for
//! [`TTL`]; revocations made through this node evict it at once, and other cluster nodes see a
//! revocation within the TTL. `last_used_at` is written at most once a minute per key, off the
//! request path.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sentinel_core::{ApiKey, Principal};
use sentinel_store::{Store, StoreError};
use uuid::Uuid;

use super::secret;

pub const TTL: Duration = Duration::from_secs(5);
const TOUCH_EVERY: Duration = Duration::from_secs(60);

struct Cached {
    key: Option<ApiKey>,
    fetched: Instant,
    touched: Option<Instant>,
}

/// See the module docs.
#[derive(Clone, Default)]
pub struct KeyCache {
    entries: Arc<RwLock<HashMap<Uuid, Cached>>>,
}

/// Why a presented key was refused.
#[derive(Debug)]
pub enum KeyRejection {
    Malformed,
    Unknown,
    Revoked,
    Store(StoreError),
}

impl KeyCache {
    /// Checks `presented` and returns who it belongs to.
    pub async fn verify(
        &self,
        store: &Arc<dyn Store>,
        presented: &str,
    ) -> Result<Principal, KeyRejection> {
        let (id, secret) = secret::parse(presented).ok_or(KeyRejection::Malformed)?;
        let key = match self.fresh(id) {
            Some(key) => key,
            None => {
                let key = store.api_key(id).await.map_err(KeyRejection::Store)?;
                self.entries.write().unwrap().insert(
                    id,
                    Cached {
                        key: key.clone(),
                        fetched: Instant::now(),
                        touched: None,
                    },
                );
                key
            }
        };
        let key = key.ok_or(KeyRejection::Unknown)?;
        if !secret::matches(secret, &key.secret_hash) {
            return Err(KeyRejection::Unknown);
        }
        if key.revoked_at.is_some() {
            return Err(KeyRejection::Revoked);
        }
        self.touch_later(store, id);
        Ok(Principal {
            key_id: key.id,
            role: key.role,
            tenant_id: key.tenant_id,
            agent_id: key.agent_id,
        })
    }

    /// Drops every cached key matching `pred`, e.g. after a revocation or a deleted agent.
    pub fn forget(&self, pred: impl Fn(&ApiKey) -> bool) {
        self.entries
            .write()
            .unwrap()
            .retain(|_, c| !c.key.as_ref().is_some_and(&pred));
    }

    fn fresh(&self, id: Uuid) -> Option<Option<ApiKey>> {
        let entries = self.entries.read().unwrap();
        let c = entries.get(&id)?;
        (c.fetched.elapsed() < TTL).then(|| c.key.clone())
    }

    fn touch_later(&self, store: &Arc<dyn Store>, id: Uuid) {
        // Nearly every call finds the key touched within the minute: decide that under the
        // shared lock, so concurrent requests do not queue for the exclusive one.
        let due = |c: &Cached| c.touched.is_none_or(|t| t.elapsed() > TOUCH_EVERY);
        if !self.entries.read().unwrap().get(&id).is_some_and(due) {
            return;
        }
        let claimed = {
            let mut entries = self.entries.write().unwrap();
            match entries.get_mut(&id) {
                Some(c) if due(c) => {
                    c.touched = Some(Instant::now());
                    true
                }
                _ => false,
            }
        };
        if claimed {
            let store = store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_api_key(id, sentinel_core::ids::now()).await {
                    tracing::warn!(key_id = %id, error = %e, "could not record key use");
                }
            });
        }
    }
}
