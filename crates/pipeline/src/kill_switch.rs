//! Kill switches: held in memory for the decision path, persisted so a restart keeps them.
//! A kill is effective for the very next decision on this node.

use std::collections::HashMap;
use std::sync::RwLock;

use sentinel_core::{Kill, KillScope};
use uuid::Uuid;

#[derive(Default)]
pub struct KillSwitch {
    active: RwLock<HashMap<Uuid, Vec<Kill>>>,
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
        self.active
            .write()
            .unwrap()
            .entry(kill.tenant_id)
            .or_default()
            .push(kill);
    }

    /// Removes and returns the kill with `id`.
    pub fn lift(&self, tenant: Uuid, id: Uuid) -> Option<Kill> {
        let mut active = self.active.write().unwrap();
        let kills = active.get_mut(&tenant)?;
        let at = kills.iter().position(|k| k.id == id)?;
        Some(kills.remove(at))
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
