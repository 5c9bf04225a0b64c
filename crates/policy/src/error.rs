//! Policy errors. Compile errors carry the file, line and column they point at.

use serde::Serialize;

/// One problem in a bundle's source, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceError {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    /// The bundle does not parse or compile; each error is located.
    #[error("the bundle is invalid: {}", .0.iter().map(|e| format!("{}:{}:{}: {}", e.file, e.line, e.col, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<SourceError>),
    /// Evaluation failed at run time (a builtin error, a conflict between rule values…).
    #[error("policy evaluation failed: {0}")]
    Evaluation(String),
    /// Evaluation ran past the time limit.
    #[error("policy evaluation exceeded its time limit of {0:?}")]
    Timeout(std::time::Duration),
    /// The decision document did not have the expected shape.
    #[error("the policy produced no usable decision: {0}")]
    Malformed(String),
}
