//! Each tenant's active policy (and optional shadow candidate), swapped atomically on
//! activation: decisions in flight keep the `Arc` they started with, the next one sees the new
//! revision. No restart, no lock held during evaluation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use sentinel_policy::CompiledPolicy;
use uuid::Uuid;

use crate::Quotas;

/// A compiled revision with the quota rules from its data.
pub struct TenantPolicy {
    pub compiled: CompiledPolicy,
    pub quotas: Quotas,
}

#[derive(Default)]
pub struct PolicySet {
    active: RwLock<HashMap<Uuid, Arc<TenantPolicy>>>,
    shadow: RwLock<HashMap<Uuid, Arc<TenantPolicy>>>,
    /// Counts activations, so that syncing with a store snapshot taken before an activation
    /// made here does not revert it (see `cluster_sync`).
    epoch: AtomicU64,
    activated_at: RwLock<HashMap<Uuid, u64>>,
}

impl PolicySet {
    pub fn active(&self, tenant: Uuid) -> Option<Arc<TenantPolicy>> {
        self.active.read().unwrap().get(&tenant).cloned()
    }

    pub fn activate(&self, tenant: Uuid, policy: Arc<TenantPolicy>) {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.activated_at.write().unwrap().insert(tenant, epoch);
        self.active.write().unwrap().insert(tenant, policy);
    }

    /// The current epoch: take it before reading the store's active revisions.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Activates `policy` from a store snapshot read after `epoch` was taken, unless this node
    /// activated something for the tenant since then. Returns whether it was activated.
    pub fn activate_from_snapshot(
        &self,
        tenant: Uuid,
        policy: Arc<TenantPolicy>,
        epoch: u64,
    ) -> bool {
        let mut activated_at = self.activated_at.write().unwrap();
        if activated_at.get(&tenant).is_some_and(|e| *e > epoch) {
            return false;
        }
        activated_at.insert(tenant, epoch);
        self.active.write().unwrap().insert(tenant, policy);
        true
    }

    pub fn shadow(&self, tenant: Uuid) -> Option<Arc<TenantPolicy>> {
        self.shadow.read().unwrap().get(&tenant).cloned()
    }

    pub fn set_shadow(&self, tenant: Uuid, policy: Option<Arc<TenantPolicy>>) {
        let mut shadow = self.shadow.write().unwrap();
        match policy {
            Some(p) => shadow.insert(tenant, p),
            None => shadow.remove(&tenant),
        };
    }
}
