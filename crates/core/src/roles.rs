//! Who may do what. The whole permission matrix lives in [`Role::allows`], so that reading one
//! function tells an auditor everything a role can do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, in every tenant.
    Admin,
    /// Manages one tenant: inventory, keys, policies; approves and kills.
    Operator,
    /// Reads everything in one tenant, the audit log included; changes nothing.
    Auditor,
    /// The data plane only, acting as one agent: checks, scans, gateway traffic.
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "auditor" => Some(Role::Auditor),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    /// The permission matrix.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Operator => matches!(permission, Read | ReadAudit | Manage | Approve | Kill),
            Role::Auditor => matches!(permission, Read | ReadAudit),
            Role::Agent => matches!(permission, DataPlane),
        }
    }
}

/// What an endpoint needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read the tenant's inventory and configuration.
    Read,
    /// Read the audit log and decision records.
    ReadAudit,
    /// Create, change and delete inventory, keys and policies.
    Manage,
    /// Decide approval requests.
    Approve,
    /// Activate and lift kill switches.
    Kill,
    /// Ask for decisions as an agent.
    DataPlane,
    /// Manage tenants and admin keys.
    Admin,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: Uuid,
    pub role: Role,
    /// `None` only for admins.
    pub tenant_id: Option<Uuid>,
    /// Set only for agent keys.
    pub agent_id: Option<Uuid>,
}

impl Principal {
    /// Whether this caller may act on `tenant` with `permission`: admins anywhere, everyone
    /// else only inside their own tenant. This is the single tenant-isolation check.
    pub fn may(&self, tenant: Uuid, permission: Permission) -> bool {
        let in_scope = self.role == Role::Admin || self.tenant_id == Some(tenant);
        in_scope && self.role.allows(permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, tenant: Option<Uuid>) -> Principal {
        Principal {
            key_id: Uuid::nil(),
            role,
            tenant_id: tenant,
            agent_id: None,
        }
    }

    #[test]
    fn other_tenants_are_out_of_reach_for_every_role_but_admin() {
        let (mine, theirs) = (Uuid::now_v7(), Uuid::now_v7());
        for role in [Role::Operator, Role::Auditor, Role::Agent] {
            let p = principal(role, Some(mine));
            for perm in [Permission::Read, Permission::Manage, Permission::DataPlane] {
                assert!(
                    !p.may(theirs, perm),
                    "{role:?} reached another tenant with {perm:?}"
                );
            }
        }
        assert!(principal(Role::Admin, None).may(theirs, Permission::Manage));
    }

    #[test]
    fn auditors_read_but_never_write() {
        let t = Uuid::now_v7();
        let p = principal(Role::Auditor, Some(t));
        assert!(p.may(t, Permission::ReadAudit));
        assert!(!p.may(t, Permission::Manage));
        assert!(!p.may(t, Permission::Kill));
    }

    #[test]
    fn agents_only_reach_the_data_plane() {
        let t = Uuid::now_v7();
        let p = principal(Role::Agent, Some(t));
        assert!(p.may(t, Permission::DataPlane));
        assert!(!p.may(t, Permission::Read));
    }
}
