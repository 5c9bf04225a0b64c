//! Kill switches: held in memory for the decision path, persisted so a restart keeps them.
//! A kill is effective for the very next decision on this node, and reaches the other nodes of
//! a cluster through [`KillSwitch::reconcile`] (see `cluster_sync`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use sentinel_core::{Kill, KillScope};
use uuid::Uuid;

#[derive(Default)]
pub struct KillSwitch {
    active: RwLock<HashMap<Uuid, Vec<Kill>>>,
    /// Counts local changes, so a reconcile with a store snapshot taken before a change does
    /// not undo it.
    epoch: AtomicU64,
    /// The epoch at which each kill was last added or lifted here.
    touched: RwLock<HashMap<Uuid, u64>>,
}

/// What a reconcile changed.
#[derive(Debug, Default)]
pub struct KillChanges {
    pub added: Vec<Kill>,
    pub lifted: Vec<Kill>,
}

impl KillSwitch {
    pub fn load(kills: Vec<Kill>) -> KillSwitch {
        let switch = KillSwitch::default();
        for k in kills {
            switch.add(k);
        }
        switch
    }

    pub fn add(&self, kill: Kill) {
        self.touch(kill.id);
        self.active
            .write()
            .unwrap()
            .entry(kill.tenant_id)
            .or_default()
            .push(kill);
    }

    /// Removes and returns the kill with `id`.
    pub fn lift(&self, tenant: Uuid, id: Uuid) -> Option<Kill> {
        self.touch(id);
        let mut active = self.active.write().unwrap();
        let kills = active.get_mut(&tenant)?;
        let at = kills.iter().position(|k| k.id == id)?;
        Some(kills.remove(at))
    }

    fn touch(&self, id: Uuid) {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.touched.write().unwrap().insert(id, epoch);
    }

    /// The current epoch: take it before reading the store for [`KillSwitch::reconcile`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Makes the active kills those of `stored` (the store's, read after `epoch` was taken),
    /// except for kills this node added or lifted since `epoch`: the snapshot may predate them.
    pub fn reconcile(&self, stored: Vec<Kill>, epoch: u64) -> KillChanges {
        let mut touched = self.touched.write().unwrap();
        let mut active = self.active.write().unwrap();
        let recent = |id: &Uuid| touched.get(id).is_some_and(|e| *e > epoch);
        let stored_ids: std::collections::HashSet<Uuid> = stored.iter().map(|k| k.id).collect();
        let mut changes = KillChanges::default();
        for kills in active.values_mut() {
            kills.retain(|k| {
                let keep = stored_ids.contains(&k.id) || recent(&k.id);
                if !keep {
                    changes.lifted.push(k.clone());
                }
                keep
            });
        }
        for kill in stored {
            let known = active
                .get(&kill.tenant_id)
                .is_some_and(|ks| ks.iter().any(|k| k.id == kill.id));
            if !known && !recent(&kill.id) {
                changes.added.push(kill.clone());
                active.entry(kill.tenant_id).or_default().push(kill);
            }
        }
        // Changes at or before the snapshot are in it now; only later ones need remembering.
        touched.retain(|_, e| *e > epoch);
        changes
    }

    pub fn list(&self, tenant: Uuid) -> Vec<Kill> {
        self.active
            .read()
            .unwrap()
            .get(&tenant)
            .cloned()
            .unwrap_or_default()
    }

    /// The first kill covering this action, if any.
    pub fn covering(
        &self,
        tenant: Uuid,
        agent: &str,
        tool: &str,
        session: Option<&str>,
    ) -> Option<Kill> {
        let active = self.active.read().unwrap();
        active
            .get(&tenant)?
            .iter()
            .find(|k| match k.scope {
                KillScope::Tenant => true,
                KillScope::Agent => k.target == agent,
                KillScope::Tool => k.target == tool,
                KillScope::Session => session == Some(k.target.as_str()),
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_core::ids;

    fn kill(tenant: Uuid, target: &str) -> Kill {
        Kill {
            id: sentinel_core::new_id(),
            tenant_id: tenant,
            scope: KillScope::Agent,
            target: target.into(),
            reason: "test".into(),
            created_by: "key".into(),
            created_at: ids::now(),
            lifted_at: None,
        }
    }

    #[test]
    fn reconcile_takes_the_stores_kills_and_lifts() {
        let tenant = sentinel_core::new_id();
        let switch = KillSwitch::default();
        let old = kill(tenant, "a");
        switch.add(old.clone());
        let epoch = switch.epoch();
        let elsewhere = kill(tenant, "b");
        // Another node lifted `old` and added `elsewhere`.
        let changes = switch.reconcile(vec![elsewhere.clone()], epoch);
        assert_eq!(
            changes.added.iter().map(|k| k.id).collect::<Vec<_>>(),
            [elsewhere.id]
        );
        assert_eq!(
            changes.lifted.iter().map(|k| k.id).collect::<Vec<_>>(),
            [old.id]
        );
        assert!(switch.covering(tenant, "b", "t", None).is_some());
        assert!(switch.covering(tenant, "a", "t", None).is_none());
    }

    #[test]
    fn a_snapshot_older_than_a_local_change_does_not_undo_it() {
        let tenant = sentinel_core::new_id();
        let switch = KillSwitch::default();
        let lifted_here = kill(tenant, "a");
        switch.add(lifted_here.clone());
        let epoch = switch.epoch();
        // The store is read now (it still has `lifted_here`, not `added_here`)…
        let snapshot = vec![lifted_here.clone()];
        // …then this node adds one kill and lifts another before the snapshot is applied.
        let added_here = kill(tenant, "b");
        switch.add(added_here.clone());
        switch.lift(tenant, lifted_here.id);
        let changes = switch.reconcile(snapshot, epoch);
        assert!(
            changes.added.is_empty() && changes.lifted.is_empty(),
            "{changes:?}"
        );
        assert!(
            switch.covering(tenant, "b", "t", None).is_some(),
            "a new kill stands"
        );
        assert!(
            switch.covering(tenant, "a", "t", None).is_none(),
            "a restore stands"
        );
        // The next snapshot, taken after both changes, agrees and settles things.
        let epoch = switch.epoch();
        let changes = switch.reconcile(vec![added_here], epoch);
        assert!(changes.added.is_empty() && changes.lifted.is_empty());
    }
}
