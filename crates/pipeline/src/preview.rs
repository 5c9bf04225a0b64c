//! Previews: what policy would say about an action, without deciding it. Nothing is recorded,
//! held or spent; enforcement points use this to hide what an agent could never be allowed to
//! do (the MCP gateway's `tools/list`), never to allow anything.

use sentinel_core::{Action, AgentStatus};

use crate::input::{self, InputParts};
use crate::{Caller, Pipeline};

impl Pipeline {
    /// Whether `action` could be allowed for `caller`: `false` when a kill switch covers it,
    /// the agent is killed, no policy is active, or policy denies it outright. An action that
    /// policy would hold for approval could be allowed, so it counts as `true`.
    pub async fn could_allow(&self, caller: Caller, action: &Action) -> bool {
        let (Ok(Some(tenant)), Ok(Some(agent))) = (
            self.registry.tenant(caller.tenant_id).await,
            self.registry.agent(caller.tenant_id, caller.agent_id).await,
        ) else {
            return false;
        };
        if agent.status == AgentStatus::Killed
            || self
                .kills
                .covering(
                    tenant.id,
                    &agent.name,
                    &action.target.tool,
                    action.session.as_deref(),
                )
                .is_some()
        {
            return false;
        }
        let Some(policy) = self.policies.active(tenant.id) else {
            return false;
        };
        let Ok(tool) = self.registry.tool(tenant.id, &action.target.tool).await else {
            return false;
        };
        let mut action = action.clone();
        action.tenant = Some(tenant.slug.clone());
        action.agent = Some(agent.name.clone());
        let findings = self.scanner.scan(&action);
        let input = input::value(&InputParts {
            action: &action,
            tenant: &tenant,
            agent: &agent,
            tool: tool.as_deref(),
            findings: &findings,
            quota: None,
            now: sentinel_core::ids::now(),
        });
        match policy.compiled.evaluate(input) {
            Ok(v) => v.outcome != sentinel_policy::Outcome::Deny,
            Err(_) => false,
        }
    }
}
