//! Keeps one node's in-memory state in step with the store that cluster nodes share: kill
//! switches, each tenant's active policy and the registry cache. A change made through this
//! node applies here at once; changes made through another node arrive when this node syncs —
//! on that node's change notice (PostgreSQL `NOTIFY`) or on the next poll, whichever is first.

use std::sync::Arc;

use sentinel_core::Kill;
use sentinel_store::StoreError;
use uuid::Uuid;

use crate::Pipeline;

/// What a sync changed on this node.
#[derive(Debug, Default)]
pub struct SyncChanges {
    pub killed: Vec<Kill>,
    pub restored: Vec<Kill>,
    /// `(tenant, revision)` activated from the store.
    pub activated: Vec<(Uuid, String)>,
}

impl SyncChanges {
    pub fn is_empty(&self) -> bool {
        self.killed.is_empty() && self.restored.is_empty() && self.activated.is_empty()
    }
}

impl Pipeline {
    /// Reads kills and active revisions from the store and applies what other nodes changed.
    /// A revision that no longer compiles is skipped with an error in the log (the tenant keeps
    /// what it had, as after a failed activation).
    pub async fn sync_from_store(&self) -> Result<SyncChanges, StoreError> {
        let kill_epoch = self.kills.epoch();
        let stored_kills = self.store.active_kills().await?;
        let kills = self.kills.reconcile(stored_kills, kill_epoch);

        let policy_epoch = self.policies.epoch();
        let mut activated = Vec::new();
        for (tenant, revision) in self.store.active_revision_names().await? {
            let current = self.policies.active(tenant);
            if current.is_some_and(|p| p.compiled.revision() == revision) {
                continue;
            }
            let Some(stored) = self.store.policy_revision(tenant, &revision).await? else {
                continue;
            };
            match self.compile_stored_revision(&stored.bundle) {
                Ok(policy) => {
                    if self
                        .policies
                        .activate_from_snapshot(tenant, Arc::new(policy), policy_epoch)
                    {
                        activated.push((tenant, revision));
                    }
                }
                Err(e) => {
                    tracing::error!(%tenant, %revision, error = %e, "a revision activated elsewhere does not compile here")
                }
            }
        }
        let changes = SyncChanges {
            killed: kills.added,
            restored: kills.lifted,
            activated,
        };
        if !changes.is_empty() {
            // Registry edits travel with kills (an agent's status) and policies.
            self.registry_changed();
            tracing::info!(
                killed = changes.killed.len(),
                restored = changes.restored.len(),
                activated = changes.activated.len(),
                "applied changes made on other nodes"
            );
        }
        Ok(changes)
    }
}
