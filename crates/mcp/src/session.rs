//! Downstream sessions: one per MCP client connection, holding who the agent is, what untrusted
//! content the session has read (its taint, which policy sees as `input.session`), the approval
//! requests its calls are waiting on, and a token the kill switch cancels.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sentinel_core::{Kill, KillScope, Provenance};
use sentinel_pipeline::Caller;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub struct Session {
    /// The `Mcp-Session-Id` of the connection: policy sees it as `input.action.session` and a
    /// `session` kill switch names it.
    pub id: String,
    pub caller: Caller,
    pub agent: String,
    /// Cancelled by a kill switch in scope: in-flight calls fail and the session closes.
    pub killed: CancellationToken,
    /// Sources of untrusted content this session has read, e.g. `tool:web__fetch`.
    taint: Mutex<Vec<String>>,
    /// Approval requests of held calls, by the call they hold (tool and canonical arguments).
    held: Mutex<HashMap<String, Uuid>>,
}

impl Session {
    pub fn new(id: String, caller: Caller, agent: String) -> Session {
        Session {
            id,
            caller,
            agent,
            killed: CancellationToken::new(),
            taint: Mutex::new(Vec::new()),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Marks the session as having read untrusted content from `source`.
    pub fn taint(&self, source: String) {
        let mut taint = self.taint.lock().unwrap();
        if !taint.contains(&source) && taint.len() < 64 {
            taint.push(source);
        }
    }

    /// The session's taint as the provenance of its next action.
    pub fn provenance(&self) -> Vec<Provenance> {
        self.taint
            .lock()
            .unwrap()
            .iter()
            .map(|s| Provenance {
                source: s.clone(),
                trust: "untrusted".into(),
            })
            .collect()
    }

    pub fn held(&self, call: &str) -> Option<Uuid> {
        self.held.lock().unwrap().get(call).copied()
    }

    pub fn hold(&self, call: String, approval: Uuid) {
        let mut held = self.held.lock().unwrap();
        if held.len() < 1024 {
            held.insert(call, approval);
        }
    }

    pub fn release(&self, call: &str) {
        self.held.lock().unwrap().remove(call);
    }

    /// Whether `kill` stops this session. A tool kill does not: it denies that tool's calls.
    pub fn killed_by(&self, kill: &Kill) -> bool {
        kill.tenant_id == self.caller.tenant_id
            && match kill.scope {
                KillScope::Tenant => true,
                KillScope::Agent => kill.target == self.agent,
                KillScope::Session => kill.target == self.id,
                KillScope::Tool => false,
            }
    }
}

/// The open sessions of this node.
#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Arc<Session>>>,
}

impl Sessions {
    pub fn insert(&self, session: Arc<Session>) {
        self.open
            .lock()
            .unwrap()
            .insert(session.id.clone(), session);
    }

    pub fn remove(&self, id: &str) {
        self.open.lock().unwrap().remove(id);
    }

    pub fn len(&self) -> usize {
        self.open.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes and returns the sessions `kill` stops.
    pub fn take_killed(&self, kill: &Kill) -> Vec<Arc<Session>> {
        let mut open = self.open.lock().unwrap();
        let ids: Vec<String> = open
            .values()
            .filter(|s| s.killed_by(kill))
            .map(|s| s.id.clone())
            .collect();
        ids.iter().filter_map(|id| open.remove(id)).collect()
    }
}
