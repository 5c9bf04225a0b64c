//! Each tenant's active policy (and optional shadow candidate), swapped atomically on
//! activation: decisions in flight keep the `Arc` they started with, the next one sees the new
//! revision. No restart, no lock held during evaluation.

use std::collections::HashMap;
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
}

impl PolicySet {
    pub fn active(&self, tenant: Uuid) -> Option<Arc<TenantPolicy>> {
        self.active.read().unwrap().get(&tenant).cloned()
    }

    pub fn activate(&self, tenant: Uuid, policy: Arc<TenantPolicy>) {
        self.active.write().unwrap().insert(tenant, policy);
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
