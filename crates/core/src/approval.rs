//! Human approval: a held action waits for operators, and an approval becomes a grant that
//! allows that exact action once.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Action, Risk};

/// Where an approval request stands. `Pending` is the only state that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Cancelled,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ApprovalStatus> {
        [
            ApprovalStatus::Pending,
            ApprovalStatus::Approved,
            ApprovalStatus::Denied,
            ApprovalStatus::Expired,
            ApprovalStatus::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// One operator's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalVote {
    /// The key that answered.
    pub key_id: Uuid,
    /// The key's name, for people reading the record.
    pub key_name: String,
    pub granted: bool,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// An action held for a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The decision that held the action.
    pub decision_id: Uuid,
    pub agent_id: Uuid,
    pub agent: String,
    pub tool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The action as the agent sent it, with secrets in its arguments replaced by keyed hashes
    /// (operators see what is at stake, recipients included, but never a credential).
    pub action: Action,
    /// `sha256:` of the action as JSON with sorted keys and exact numbers: the grant is bound
    /// to it.
    pub action_digest: String,
    /// Why policy held it.
    pub reasons: Vec<String>,
    pub risk: Risk,
    /// How many distinct operators must approve (N of M); any one denial denies.
    pub required_approvals: u32,
    pub votes: Vec<ApprovalVote>,
    pub status: ApprovalStatus,
    /// Why it reached its final state, in words (`expired unanswered`, `cancelled: kill switch …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// The agent key that asked: it may never answer its own request.
    pub requested_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// A pending request expires unanswered at this time.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    /// Once approved: the grant must be used before this time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub grant_expires_at: Option<OffsetDateTime>,
    /// When the grant was used (it works once).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub grant_used_at: Option<OffsetDateTime>,
    /// The decision that used the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_decision_id: Option<Uuid>,
    /// Optimistic concurrency: every change bumps it, and a change made against an old version
    /// is refused, so two answers (or two uses of a grant) cannot both win.
    pub version: u32,
}

impl Approval {
    pub fn approvals(&self) -> usize {
        self.votes.iter().filter(|v| v.granted).count()
    }
}
