//! Filters accepted by list queries, and the small builder that turns them into SQL.

use sentinel_core::{AgentStatus, ApprovalStatus, Risk, ToolKind};

#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    pub status: Option<AgentStatus>,
    pub framework: Option<String>,
    pub owner: Option<String>,
    /// Only agents that carry this label (`key`, `value`).
    pub label: Option<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct ToolFilter {
    pub kind: Option<ToolKind>,
    pub risk: Option<Risk>,
    pub server: Option<String>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ApprovalFilter {
    pub status: Option<ApprovalStatus>,
    pub agent: Option<String>,
    pub tool: Option<String>,
}

/// A value bound to a numbered placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

/// Collects `WHERE` conditions with `$n` placeholders, numbered in the order they are added,
/// which both SQLite and PostgreSQL accept.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    pub clauses: Vec<String>,
    pub binds: Vec<Bind>,
}

impl Conditions {
    /// Adds `column op $n` bound to `value`.
    pub fn push(&mut self, column: &str, op: &str, value: Bind) {
        self.binds.push(value);
        self.clauses
            .push(format!("{column} {op} ${}", self.binds.len()));
    }

    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The next free placeholder number.
    pub fn next(&self) -> usize {
        self.binds.len() + 1
    }
}
