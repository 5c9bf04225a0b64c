//! Which events a caller sees on the live stream. The whole rule is [`Audience::of`] (from the
//! caller's role) and [`Audience::sees`] (per event), so that one place answers "who sees what".

use sentinel_core::{Permission, Principal, Role};
use sentinel_pipeline::events::{kinds, Event};
use uuid::Uuid;

/// The events one subscriber receives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// Only this tenant's events; `None` for every tenant's (admins only).
    pub tenant: Option<Uuid>,
    /// Agent keys see the events about their own agent and the kill switches of their tenant.
    pub agent: Option<Uuid>,
    /// Only these event types; `None` for all.
    pub types: Option<Vec<&'static str>>,
}

impl Audience {
    /// Everything, in every tenant: what the webhook notifier reads.
    pub fn everything() -> Audience {
        Audience::default()
    }

    /// The audience of `caller`, narrowed to the tenant it asked for (`asked`). `None` when the
    /// caller may not read that tenant's events, which the API answers with 404 like any other
    /// tenant the caller cannot see.
    pub fn of(
        caller: &Principal,
        asked: Option<Uuid>,
        types: Option<Vec<&'static str>>,
    ) -> Option<Audience> {
        if caller.role == Role::Admin {
            return Some(Audience {
                tenant: asked,
                agent: None,
                types,
            });
        }
        let own = caller.tenant_id?;
        if asked.is_some_and(|t| t != own) {
            return None;
        }
        let agent = match caller.role {
            // An agent key without an agent is never issued; `nil` keeps it to kill switches.
            Role::Agent => Some(caller.agent_id.unwrap_or(Uuid::nil())),
            _ if caller.may(own, Permission::Read) => None,
            _ => return None,
        };
        Some(Audience {
            tenant: Some(own),
            agent,
            types,
        })
    }

    pub fn sees(&self, event: &Event) -> bool {
        if self
            .types
            .as_ref()
            .is_some_and(|t| !t.contains(&event.kind))
        {
            return false;
        }
        if self.tenant.is_some() && event.tenant_id != self.tenant {
            return false;
        }
        match self.agent {
            None => true,
            Some(agent) => event.agent_id == Some(agent) || is_kill(event.kind),
        }
    }
}

fn is_kill(kind: &str) -> bool {
    kind == kinds::KILL_ACTIVATED || kind == kinds::KILL_RESTORED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &'static str, tenant: Option<Uuid>, agent: Option<Uuid>) -> Event {
        Event {
            id: "1-1".into(),
            kind,
            time: String::new(),
            tenant_id: tenant,
            agent_id: agent,
            data: serde_json::json!({}).into(),
        }
    }

    fn key(role: Role, tenant: Option<Uuid>, agent: Option<Uuid>) -> Principal {
        Principal {
            key_id: Uuid::now_v7(),
            role,
            tenant_id: tenant,
            agent_id: agent,
        }
    }

    #[test]
    fn admins_see_every_tenant_or_the_one_they_ask_for() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let admin = key(Role::Admin, None, None);
        let all = Audience::of(&admin, None, None).unwrap();
        assert!(all.sees(&event(kinds::DECISION_MADE, Some(a), None)));
        assert!(all.sees(&event(kinds::POLICY_ACTIVATED, None, None)));
        let only_a = Audience::of(&admin, Some(a), None).unwrap();
        assert!(only_a.sees(&event(kinds::DECISION_MADE, Some(a), None)));
        assert!(!only_a.sees(&event(kinds::DECISION_MADE, Some(b), None)));
    }

    #[test]
    fn operators_and_auditors_see_their_tenant_only() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for role in [Role::Operator, Role::Auditor] {
            let k = key(role, Some(a), None);
            let aud = Audience::of(&k, None, None).unwrap();
            assert_eq!(aud, Audience::of(&k, Some(a), None).unwrap());
            assert!(aud.sees(&event(
                kinds::APPROVAL_REQUESTED,
                Some(a),
                Some(Uuid::now_v7())
            )));
            assert!(!aud.sees(&event(kinds::APPROVAL_REQUESTED, Some(b), None)));
            assert!(!aud.sees(&event(kinds::POLICY_ACTIVATED, None, None)));
            assert_eq!(Audience::of(&k, Some(b), None), None, "{role:?}");
        }
    }

    #[test]
    fn agents_see_their_own_events_and_their_tenants_kills() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
        let aud = Audience::of(&key(Role::Agent, Some(a), Some(me)), None, None).unwrap();
        assert!(aud.sees(&event(kinds::DECISION_MADE, Some(a), Some(me))));
        assert!(aud.sees(&event(kinds::APPROVAL_DECIDED, Some(a), Some(me))));
        assert!(!aud.sees(&event(kinds::DECISION_MADE, Some(a), Some(other))));
        assert!(!aud.sees(&event(kinds::POLICY_ACTIVATED, Some(a), None)));
        assert!(aud.sees(&event(kinds::KILL_ACTIVATED, Some(a), None)));
        assert!(aud.sees(&event(kinds::KILL_RESTORED, Some(a), None)));
        assert!(!aud.sees(&event(kinds::KILL_ACTIVATED, Some(b), None)));
    }

    #[test]
    fn the_type_filter_applies_to_every_role() {
        let t = Uuid::now_v7();
        let types = Some(vec![kinds::KILL_ACTIVATED]);
        let aud = Audience::of(&key(Role::Operator, Some(t), None), None, types).unwrap();
        assert!(aud.sees(&event(kinds::KILL_ACTIVATED, Some(t), None)));
        assert!(!aud.sees(&event(kinds::DECISION_MADE, Some(t), None)));
    }
}
