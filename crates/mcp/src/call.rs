//! `tools/call` through the pipeline: the call becomes an [`Action`], is decided like any
//! `/v1/check`, waits for an operator when policy holds it, and only then reaches the upstream.
//! Refusals come back as tool results with `isError` and a reason the agent can act on, never
//! as protocol errors.

use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock};
use sentinel_core::mcp::split_tool;
use sentinel_core::{Action, ActionContext, ActionKind, ApprovalStatus, Decision, Outcome, Target};
use serde_json::Value;

use crate::session::Session;
use crate::McpGateway;

/// A tool result that tells the agent why Sentinel did not run the call.
pub fn refusal(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

impl McpGateway {
    pub(crate) async fn call_tool(
        &self,
        session: &Session,
        request: CallToolRequestParams,
    ) -> CallToolResult {
        let started = std::time::Instant::now();
        let result = self.governed_call(session, request).await;
        metrics::histogram!("sentinel_mcp_call_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("sentinel_mcp_calls_total",
            "result" => if result.is_error == Some(true) { "error" } else { "ok" })
        .increment(1);
        result
    }

    async fn governed_call(
        &self,
        session: &Session,
        request: CallToolRequestParams,
    ) -> CallToolResult {
        let name = request.name.to_string();
        let Some((server, tool)) = split_tool(&name) else {
            return refusal(format!("unknown tool {name:?}"));
        };
        let Some(upstream) = self.upstream(session.caller.tenant_id, server).await else {
            return refusal(format!("unknown tool {name:?}"));
        };
        let live = match upstream.live(self.config.connect_timeout()).await {
            Ok(live) => live,
            Err(e) => return refusal(format!("the server behind {name} is unavailable: {e}")),
        };
        let Some(offered) = live.tools.iter().find(|t| t.tool.name == tool) else {
            return refusal(format!("unknown tool {name:?}"));
        };
        if !offered.pinned {
            return refusal(format!(
                "tool {name} is blocked: its definition changed since it was approved (a possible \
                 rug pull); an operator must approve the new definition before it can be used"
            ));
        }
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        let action = Action {
            tenant: None,
            agent: None,
            session: Some(session.id.clone()),
            kind: ActionKind::ToolCall,
            target: Target {
                tool: name.clone(),
                server: Some(server.to_string()),
            },
            arguments: arguments.clone(),
            context: ActionContext {
                provenance: session.provenance(),
                ..Default::default()
            },
        };
        let key = format!(
            "{name}\n{}",
            String::from_utf8_lossy(&sentinel_audit::canonical::canonical_json(&arguments))
        );
        let decision = match self.decide(session, action, &key).await {
            Ok(d) => d,
            Err(refused) => return refused,
        };
        match decision.outcome {
            Outcome::Allow => {}
            Outcome::Deny => {
                return refusal(format!(
                    "Sentinel denied this call: {} (decision {})",
                    decision.reasons.join("; "),
                    decision.decision_id
                ))
            }
            Outcome::ApprovalRequired => {
                let id = decision
                    .approval_id
                    .map(|id| id.to_string())
                    .unwrap_or_default();
                return refusal(format!(
                    "Sentinel is holding this call for approval {id}: {}. It was not run. Once an \
                     operator approves it, call the tool again with the same arguments.",
                    decision.reasons.join("; ")
                ));
            }
        }
        let mut forwarded = request;
        forwarded.name = tool.to_string().into();
        if !decision.obligations.redact.is_empty() {
            let mut args = arguments;
            for path in &decision.obligations.redact {
                redact_path(&mut args, path);
            }
            forwarded.arguments = args.as_object().cloned();
        }
        let timeout = self.config.call_timeout();
        let response = tokio::select! {
            r = tokio::time::timeout(timeout, live.peer.call_tool_once(forwarded)) => r,
            _ = session.killed.cancelled() => {
                return refusal("Sentinel stopped this call: a kill switch closed the session");
            }
        };
        let result = match response {
            Ok(Ok(CallToolResponse::Complete(result))) => result,
            Ok(Ok(_)) => {
                return refusal(format!("{name} asked for input the gateway cannot relay"))
            }
            Ok(Err(e)) => return refusal(format!("the server behind {name} failed: {e}")),
            Err(_) => return refusal(format!("{name} did not answer within {timeout:?}")),
        };
        let (result, found) = crate::results::scan(&self.guard, result);
        if found.redacted > 0 {
            metrics::counter!("sentinel_mcp_result_redactions_total")
                .increment(found.redacted as u64);
        }
        if let Some(rule) = found.injection {
            tracing::warn!(session = %session.id, tool = %name, %rule, "untrusted content in a tool result; session tainted");
            session.taint(format!("tool:{name}"));
        }
        result
    }

    /// Decides the call; a call held for approval waits up to the configured time for an
    /// operator, and an approved one is decided again with its grant (allowed once).
    async fn decide(
        &self,
        session: &Session,
        action: Action,
        key: &str,
    ) -> Result<Decision, CallToolResult> {
        let caller = session.caller;
        let pending = match session.held(key) {
            Some(id) => Some(id),
            None => {
                let d = self.pipeline.decide(caller, action.clone()).await;
                match (d.outcome, d.approval_id) {
                    (Outcome::ApprovalRequired, Some(id)) => {
                        session.hold(key.to_string(), id);
                        if self.config.approval_wait().is_zero() {
                            return Ok(d);
                        }
                        Some(id)
                    }
                    _ => return Ok(d),
                }
            }
        };
        let id = pending.expect("set above");
        let wait = self.config.approval_wait();
        let answer = tokio::select! {
            a = self.pipeline.wait_for_answer(id, wait) => a,
            _ = session.killed.cancelled() => {
                return Err(refusal("Sentinel stopped this call: a kill switch closed the session"));
            }
        };
        let approval = match answer {
            Ok(Some(a)) => a,
            Ok(None) => {
                session.release(key);
                return Err(refusal(format!("approval request {id} no longer exists")));
            }
            Err(e) => return Err(refusal(format!("approval {id} could not be read: {e}"))),
        };
        match approval.status {
            ApprovalStatus::Pending => Ok(self.pipeline.decide(caller, action).await),
            ApprovalStatus::Approved => {
                session.release(key);
                let grant = self.pipeline.grant_token(&approval);
                Ok(self
                    .pipeline
                    .decide_with_grant(caller, action, Some(&grant))
                    .await)
            }
            status => {
                session.release(key);
                Err(refusal(format!(
                    "Sentinel did not run this call: approval {id} was {}{}",
                    status.as_str(),
                    approval
                        .resolution
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )))
            }
        }
    }
}

/// Replaces the value at `$.arguments.a.b` (a policy's redact obligation) with a marker.
fn redact_path(arguments: &mut Value, path: &str) {
    let Some(rest) = path.strip_prefix("$.arguments") else {
        return;
    };
    let mut at = arguments;
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        match at.get_mut(part) {
            Some(next) => at = next,
            None => return,
        }
    }
    *at = Value::String("[REDACTED]".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obligations_redact_argument_paths() {
        let mut args = serde_json::json!({"to": "a@b.c", "body": {"ssn": "123-45-6789", "x": 1}});
        redact_path(&mut args, "$.arguments.body.ssn");
        redact_path(&mut args, "$.arguments.missing.path");
        assert_eq!(args["body"]["ssn"], "[REDACTED]");
        assert_eq!(args["body"]["x"], 1);
        assert_eq!(args["to"], "a@b.c");
    }
}
