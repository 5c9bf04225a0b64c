//! Agents, tools and tenants as the decision path sees them: read from the store, kept for a
//! couple of seconds. Kill switches do not depend on this cache, so they act at once; registry
//! edits (a tool's risk, an agent's status) reach decisions within [`TTL`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sentinel_core::{Agent, Tenant, Tool};
use sentinel_store::{Store, StoreError};
use uuid::Uuid;

pub const TTL: Duration = Duration::from_secs(2);

struct TtlMap<K, V> {
    entries: RwLock<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlMap<K, V> {
    fn new() -> Self {
        TtlMap {
            entries: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, k: &K) -> Option<V> {
        let entries = self.entries.read().unwrap();
        entries
            .get(k)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, k: K, v: V) {
        let mut entries = self.entries.write().unwrap();
        if entries.len() > 100_000 {
            entries.clear();
        }
        entries.insert(k, (Instant::now(), v));
    }

    fn clear(&self) {
        self.entries.write().unwrap().clear();
    }
}

pub struct RegistryCache {
    store: Arc<dyn Store>,
    // Shared rather than copied out on every decision; a record read again from the store is
    // a new `Arc` (which is how the input builder's memo notices it may have changed).
    tenants: TtlMap<Uuid, Option<Arc<Tenant>>>,
    agents: TtlMap<(Uuid, Uuid), Option<Arc<Agent>>>,
    tools: TtlMap<(Uuid, String), Option<Arc<Tool>>>,
}

impl RegistryCache {
    pub fn new(store: Arc<dyn Store>) -> Self {
        RegistryCache {
            store,
            tenants: TtlMap::new(),
            agents: TtlMap::new(),
            tools: TtlMap::new(),
        }
    }

    pub async fn tenant(&self, id: Uuid) -> Result<Option<Arc<Tenant>>, StoreError> {
        if let Some(t) = self.tenants.get(&id) {
            return Ok(t);
        }
        let t = self.store.tenant(&id.to_string()).await?.map(Arc::new);
        self.tenants.put(id, t.clone());
        Ok(t)
    }

    pub async fn agent(&self, tenant: Uuid, id: Uuid) -> Result<Option<Arc<Agent>>, StoreError> {
        if let Some(a) = self.agents.get(&(tenant, id)) {
            return Ok(a);
        }
        let a = self
            .store
            .agent(tenant, &id.to_string())
            .await?
            .map(Arc::new);
        self.agents.put((tenant, id), a.clone());
        Ok(a)
    }

    pub async fn tool(&self, tenant: Uuid, name: &str) -> Result<Option<Arc<Tool>>, StoreError> {
        let key = (tenant, name.to_string());
        if let Some(t) = self.tools.get(&key) {
            return Ok(t);
        }
        let t = self.store.tool(tenant, name).await?.map(Arc::new);
        self.tools.put(key, t.clone());
        Ok(t)
    }

    /// Forgets everything, e.g. after a registry change made through this node.
    pub fn invalidate(&self) {
        self.tenants.clear();
        self.agents.clear();
        self.tools.clear();
    }
}
