//! The approval lifecycle: a held action becomes a request; operators answer it; an approval
//! becomes a grant that allows that exact action once; expiry and kill switches end what is
//! still pending. Every transition is stored (compare-and-set on a version, so two answers or
//! two uses of a grant cannot both win), written to the audit log and published as an event.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sentinel_audit::entry::EntryKind;
use sentinel_core::*;
use sentinel_store::ApprovalFilter;
use serde_json::json;
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::events::kinds;
use crate::{NewEntry, Pipeline};

/// How long requests and grants live.
#[derive(Debug, Clone)]
pub struct ApprovalConfig {
    /// An unanswered request expires after this, unless policy says otherwise.
    pub request_ttl: Duration,
    /// An approved grant must be used within this.
    pub grant_ttl: Duration,
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        ApprovalConfig {
            request_ttl: Duration::from_secs(15 * 60),
            grant_ttl: Duration::from_secs(10 * 60),
        }
    }
}

/// Why an approval operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("approval request not found")]
    NotFound,
    /// The request is no longer in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this (separation of duties).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unavailable(String),
}

impl From<sentinel_store::StoreError> for ApprovalError {
    fn from(e: sentinel_store::StoreError) -> Self {
        ApprovalError::Unavailable(e.to_string())
    }
}

/// Who answers a request.
#[derive(Debug, Clone)]
pub struct Approver {
    pub principal: Principal,
    /// The key's name, kept in the record for people reading it.
    pub key_name: String,
}

/// What a held decision needs to become a request.
pub(crate) struct Hold<'a> {
    pub tenant_id: Uuid,
    pub agent_id: Uuid,
    pub key_id: Uuid,
    pub decision_id: Uuid,
    pub action: &'a Action,
    pub digest: &'a str,
    pub reasons: &'a [String],
    pub risk: Risk,
    pub approvers: u32,
    pub ttl_seconds: Option<u32>,
}

const GRANT_PREFIX: &str = "sgr_";

impl Pipeline {
    /// The grant token of an approved request: `sgr_<id>_<mac>`, where the MAC binds the
    /// request id to the approved action's digest. Derived, so nothing secret is stored.
    pub fn grant_token(&self, approval: &Approval) -> String {
        use base64::Engine;
        let mac = self
            .grant_mac(approval.id, &approval.action_digest)
            .finalize()
            .into_bytes();
        format!(
            "{GRANT_PREFIX}{}_{}",
            approval.id.simple(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
        )
    }

    fn grant_mac(&self, id: Uuid, digest: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.grant_key).expect("HMAC takes any key length");
        mac.update(format!("sentinel-grant:{id}:{digest}").as_bytes());
        mac
    }

    /// Creates the request for a held action, or returns the agent's pending request for the
    /// same action (asking twice waits on one request).
    pub(crate) async fn hold(&self, h: Hold<'_>) -> Result<Approval, String> {
        let existing = self
            .store
            .pending_approval(h.tenant_id, h.agent_id, h.digest)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(a) = existing.filter(|a| a.expires_at > ids::now()) {
            return Ok(a);
        }
        let now = ids::now();
        let ttl = h
            .ttl_seconds
            .map(|s| Duration::from_secs(s as u64))
            .unwrap_or(self.config().approvals.request_ttl);
        let mut action = h.action.clone();
        // Operators see what is at stake — recipients and amounts, PII included — but never a
        // credential.
        action.arguments = self.scanner.redact_secrets(&action.arguments);
        let approval = Approval {
            id: new_id(),
            tenant_id: h.tenant_id,
            decision_id: h.decision_id,
            agent_id: h.agent_id,
            agent: h.action.agent.clone().unwrap_or_default(),
            tool: h.action.target.tool.clone(),
            session: h.action.session.clone(),
            action,
            action_digest: h.digest.to_string(),
            reasons: h.reasons.to_vec(),
            risk: h.risk,
            required_approvals: h.approvers.max(1),
            votes: vec![],
            status: ApprovalStatus::Pending,
            resolution: None,
            requested_by: h.key_id,
            created_at: now,
            expires_at: now + ttl,
            decided_at: None,
            grant_expires_at: None,
            grant_used_at: None,
            grant_decision_id: None,
            version: 0,
        };
        self.store
            .insert_approval(&approval)
            .await
            .map_err(|e| e.to_string())?;
        self.record_transition(&approval, "requested", &format!("agent:{}", h.agent_id))
            .await
            .map_err(|e| e.to_string())?;
        metrics::counter!("sentinel_approval_transitions_total", "event" => "requested")
            .increment(1);
        self.events.publish(
            kinds::APPROVAL_REQUESTED,
            Some(approval.tenant_id),
            Some(approval.agent_id),
            approval_event(&approval),
        );
        Ok(approval)
    }

    /// Checks a grant presented with `digest` by the agent, without using it up.
    pub(crate) async fn check_grant(
        &self,
        token: &str,
        tenant: Uuid,
        agent: Uuid,
        digest: &str,
    ) -> Result<Approval, String> {
        let invalid = || "the grant is not valid".to_string();
        let (id, mac) = token
            .strip_prefix(GRANT_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .ok_or_else(invalid)?;
        let id = Uuid::try_parse(id).map_err(|_| invalid())?;
        let mac = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(mac)
                .map_err(|_| invalid())?
        };
        let approval = self
            .store
            .approval(id)
            .await
            .map_err(|e| format!("the grant could not be checked: {e}"))?
            .filter(|a| a.tenant_id == tenant && a.agent_id == agent)
            .ok_or_else(invalid)?;
        // Constant-time comparison.
        self.grant_mac(id, &approval.action_digest)
            .verify_slice(&mac)
            .map_err(|_| invalid())?;
        if approval.status != ApprovalStatus::Approved {
            return Err(format!(
                "approval {id} is {}, not approved",
                approval.status.as_str()
            ));
        }
        if approval.grant_used_at.is_some() {
            return Err(format!("the grant of approval {id} was already used"));
        }
        if approval.grant_expires_at.is_some_and(|t| t <= ids::now()) {
            return Err(format!("the grant of approval {id} has expired"));
        }
        if approval.action_digest != digest {
            return Err(format!(
                "the action differs from the one approved in {id}; a grant allows only that exact action"
            ));
        }
        Ok(approval)
    }

    /// Uses a checked grant up. Only one caller can win; the others are told it was used.
    pub(crate) async fn use_grant(
        &self,
        approval: Approval,
        decision_id: Uuid,
    ) -> Result<Approval, String> {
        let id = approval.id;
        self.transition(id, &format!("agent:{}", approval.agent_id), |a| {
            if a.grant_used_at.is_some() || a.status != ApprovalStatus::Approved {
                return Err(ApprovalError::Conflict(format!(
                    "the grant of approval {id} was already used"
                )));
            }
            a.grant_used_at = Some(ids::now());
            a.grant_decision_id = Some(decision_id);
            Ok(Step {
                audit: "grant_used",
                event: kinds::APPROVAL_GRANT_USED,
            })
        })
        .await
        .map_err(|e| e.to_string())
    }

    /// An operator's answer. The requesting agent's key never answers (separation of duties);
    /// each key answers once; any denial denies; enough approvals approve.
    pub async fn answer(
        &self,
        id: Uuid,
        approver: &Approver,
        granted: bool,
        reason: &str,
    ) -> Result<Approval, ApprovalError> {
        let who = &approver.principal;
        let grant_ttl = self.config().approvals.grant_ttl;
        self.transition(id, &format!("key:{}", who.key_id), |a| {
            if who.role == Role::Agent || who.key_id == a.requested_by {
                return Err(ApprovalError::Forbidden(
                    "an agent's key cannot answer approval requests; an operator must".into(),
                ));
            }
            open_for_answers(a)?;
            if a.votes.iter().any(|v| v.key_id == who.key_id) {
                return Err(ApprovalError::Conflict(
                    "this key has already answered; another operator must".into(),
                ));
            }
            let now = ids::now();
            a.votes.push(ApprovalVote {
                key_id: who.key_id,
                key_name: approver.key_name.clone(),
                granted,
                reason: reason.to_string(),
                at: now,
            });
            if !granted {
                a.status = ApprovalStatus::Denied;
                a.resolution = Some(format!("denied by {}: {reason}", approver.key_name));
            } else if a.approvals() >= a.required_approvals as usize {
                a.status = ApprovalStatus::Approved;
                a.resolution = Some(format!(
                    "approved by {}",
                    a.votes
                        .iter()
                        .map(|v| v.key_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                a.grant_expires_at = Some(now + grant_ttl);
            } else {
                return Ok(Step {
                    audit: "voted",
                    event: kinds::APPROVAL_VOTED,
                });
            }
            a.decided_at = Some(now);
            Ok(Step {
                audit: a.status.as_str(),
                event: kinds::APPROVAL_DECIDED,
            })
        })
        .await
    }

    /// Cancels a pending request, or revokes an approved grant not yet used: by the agent that
    /// asked, or by an operator.
    pub async fn cancel(
        &self,
        id: Uuid,
        by: &Principal,
        reason: &str,
    ) -> Result<Approval, ApprovalError> {
        self.transition(id, &format!("key:{}", by.key_id), |a| {
            if by.role == Role::Agent && by.agent_id != Some(a.agent_id) {
                return Err(ApprovalError::Forbidden(
                    "an agent may cancel only its own requests".into(),
                ));
            }
            if !unused_grant(a) {
                open_for_answers(a)?;
            }
            a.status = ApprovalStatus::Cancelled;
            a.resolution = Some(format!("cancelled: {reason}"));
            a.decided_at = Some(ids::now());
            Ok(Step {
                audit: "cancelled",
                event: kinds::APPROVAL_CANCELLED,
            })
        })
        .await
    }

    /// Cancels every pending request the kill covers, and revokes its approved grants not yet
    /// used (so a restore does not revive them); returns how many.
    pub async fn cancel_in_scope(&self, kill: &Kill) -> Result<usize, ApprovalError> {
        let mut covered = Vec::new();
        for status in [ApprovalStatus::Pending, ApprovalStatus::Approved] {
            let filter = ApprovalFilter {
                status: Some(status),
                ..Default::default()
            };
            let mut page = PageRequest {
                limit: 500,
                after: None,
            };
            loop {
                let found = self
                    .store
                    .list_approvals(kill.tenant_id, &filter, page)
                    .await?;
                covered.extend(found.items.into_iter().filter(|a| {
                    (a.status == ApprovalStatus::Pending || unused_grant(a))
                        && match kill.scope {
                            KillScope::Tenant => true,
                            KillScope::Agent => a.agent == kill.target,
                            KillScope::Tool => a.tool == kill.target,
                            KillScope::Session => {
                                a.session.as_deref() == Some(kill.target.as_str())
                            }
                        }
                }));
                match found.next_cursor.and_then(|c| Uuid::try_parse(&c).ok()) {
                    Some(after) => page.after = Some(after),
                    None => break,
                }
            }
        }
        let scope = serde_json::to_value(kill.scope).unwrap_or_default();
        let reason = format!(
            "kill switch ({} {}): {}",
            scope.as_str().unwrap_or_default(),
            kill.target,
            kill.reason
        );
        let ids = covered.iter().map(|a| a.id);
        let cancelled = Step {
            audit: "cancelled",
            event: kinds::APPROVAL_CANCELLED,
        };
        self.close_open(
            ids,
            &kill.created_by,
            ApprovalStatus::Cancelled,
            &format!("cancelled by {reason}"),
            cancelled,
            true,
        )
        .await
    }

    /// Marks pending requests past their expiry as expired; returns how many.
    pub async fn expire_due(&self) -> Result<usize, ApprovalError> {
        let due = self.store.due_approvals(ids::now(), 200).await?;
        let expired = Step {
            audit: "expired",
            event: kinds::APPROVAL_EXPIRED,
        };
        self.close_open(
            due.iter().map(|a| a.id),
            "system",
            ApprovalStatus::Expired,
            "expired unanswered",
            expired,
            false,
        )
        .await
    }

    /// Ends each request that is still pending (and, with `grants`, each approved one whose
    /// grant is unused) with `status`; returns how many it ended. One answered or used in the
    /// meantime is left as it is.
    async fn close_open(
        &self,
        ids: impl Iterator<Item = Uuid>,
        actor: &str,
        status: ApprovalStatus,
        resolution: &str,
        step: Step,
        grants: bool,
    ) -> Result<usize, ApprovalError> {
        let mut closed = 0;
        for id in ids {
            let done = self
                .transition(id, actor, |a| {
                    if a.status != ApprovalStatus::Pending && !(grants && unused_grant(a)) {
                        return Err(ApprovalError::Conflict("already answered".into()));
                    }
                    a.status = status;
                    a.resolution = Some(resolution.to_string());
                    a.decided_at = Some(ids::now());
                    Ok(step)
                })
                .await;
            match done {
                Ok(_) => closed += 1,
                Err(ApprovalError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(closed)
    }

    /// Waits up to `wait` for a pending request to be answered, then returns it as it stands.
    /// Wakes on this node's events at once, and re-reads every second so that an answer given
    /// on another node is seen too.
    pub async fn wait_for_answer(
        &self,
        id: Uuid,
        wait: Duration,
    ) -> Result<Option<Approval>, ApprovalError> {
        let mut sub = self.events.subscribe(None);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let current = self.store.approval(id).await?;
            match &current {
                Some(a) if a.status == ApprovalStatus::Pending => {}
                _ => return Ok(current),
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(current);
            }
            let tick = (tokio::time::Instant::now() + Duration::from_secs(1)).min(deadline);
            loop {
                tokio::select! {
                    event = sub.live.recv() => match event {
                        Ok(e) if e.kind.starts_with("approval.") && e.data["id"] == json!(id) => break,
                        Ok(_) => continue,
                        Err(_) => break,
                    },
                    _ = tokio::time::sleep_until(tick) => break,
                }
            }
        }
    }

    /// Applies `change` to the stored request and records it: serialised on this node, and
    /// compare-and-set against other nodes (a lost race re-reads and re-applies).
    async fn transition(
        &self,
        id: Uuid,
        actor: &str,
        change: impl Fn(&mut Approval) -> Result<Step, ApprovalError>,
    ) -> Result<Approval, ApprovalError> {
        let _serial = self.approval_lock.lock().await;
        for _ in 0..5 {
            let stored = self
                .store
                .approval(id)
                .await?
                .ok_or(ApprovalError::NotFound)?;
            let mut next = stored.clone();
            let step = change(&mut next)?;
            next.version = stored.version + 1;
            // The audit entry comes first: a change the log cannot show is not made.
            self.record_transition(&next, step.audit, actor).await?;
            if self.store.update_approval(&next, stored.version).await? {
                metrics::counter!("sentinel_approval_transitions_total", "event" => step.audit)
                    .increment(1);
                self.events.publish(
                    step.event,
                    Some(next.tenant_id),
                    Some(next.agent_id),
                    approval_event(&next),
                );
                return Ok(next);
            }
        }
        Err(ApprovalError::Unavailable(
            "the request kept changing under this answer; try again".into(),
        ))
    }

    async fn record_transition(
        &self,
        a: &Approval,
        event: &str,
        actor: &str,
    ) -> Result<(), ApprovalError> {
        let Some(audit) = self.audit() else {
            return Ok(());
        };
        let entry = NewEntry {
            tenant: Some(a.tenant_id),
            actor: actor.to_string(),
            kind: EntryKind::Approval,
            agent: Some(a.agent.clone()),
            tool: Some(a.tool.clone()),
            outcome: Some(a.status.as_str().to_string()),
            policy_revision: None,
            request_digest: Some(a.action_digest.clone()),
            details: json!({
                "event": event,
                "approval_id": a.id,
                "decision_id": a.decision_id,
                "status": a.status,
                "required_approvals": a.required_approvals,
                "votes": a.votes,
                "resolution": a.resolution,
                "expires_at": rfc3339(a.expires_at),
                "grant_expires_at": a.grant_expires_at.map(rfc3339),
                "grant_decision_id": a.grant_decision_id,
            }),
        };
        audit
            .append(entry)
            .await
            .map(|_| ())
            .map_err(|reason| ApprovalError::Unavailable(format!("not recorded because {reason}")))
    }
}

/// What a transition records: its audit event name and its live event type.
#[derive(Clone, Copy)]
struct Step {
    audit: &'static str,
    event: &'static str,
}

/// An approval whose grant can still be used.
fn unused_grant(a: &Approval) -> bool {
    a.status == ApprovalStatus::Approved && a.grant_used_at.is_none()
}

/// Refuses answers to requests that are no longer pending, naming what happened to them.
fn open_for_answers(a: &Approval) -> Result<(), ApprovalError> {
    if a.status != ApprovalStatus::Pending {
        return Err(ApprovalError::Conflict(format!(
            "approval {} is already {}",
            a.id,
            a.status.as_str()
        )));
    }
    if a.expires_at <= ids::now() {
        return Err(ApprovalError::Conflict(format!(
            "approval {} has expired",
            a.id
        )));
    }
    Ok(())
}

/// Arguments larger than this are left out of events (the replay ring holds thousands of
/// them); the API has them.
const EVENT_ARGUMENTS_MAX: usize = 4096;

/// The event payload: the request (secrets already hashed), so a watcher or a notification
/// shows what is at stake without another call — unless its arguments are large.
fn approval_event(a: &Approval) -> serde_json::Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    let size = serde_json::to_vec(&a.action.arguments).map_or(0, |b| b.len());
    if size > EVENT_ARGUMENTS_MAX {
        v["action"]["arguments"] = json!({
            "omitted": format!("{size} bytes; GET /v1/approvals/{} has them", a.id)
        });
    }
    v
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Expires unanswered requests once a second, for as long as the pipeline lives.
pub fn spawn_approval_expiry(pipeline: std::sync::Arc<Pipeline>) {
    let weak = std::sync::Arc::downgrade(&pipeline);
    drop(pipeline);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(pipeline) = weak.upgrade() else {
                return;
            };
            if let Err(e) = pipeline.expire_due().await {
                tracing::warn!(error = %e, "could not expire approval requests");
            }
        }
    });
}
