//! The gateway's one error type: an HTTP status, a stable code and a message. The server turns
//! it into a problem document that also carries an OpenAI-style `error` object, so SDKs show it.

use std::fmt;

#[derive(Debug, Clone)]
pub struct LlmError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 429 answers.
    pub retry_after: Option<u64>,
    /// Extra fields for the problem document (the decision id, an approval id).
    pub details: serde_json::Value,
}

impl LlmError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> LlmError {
        LlmError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            details: serde_json::Value::Null,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> LlmError {
        LlmError::new(400, "invalid_request", message)
    }

    pub fn retry_after(mut self, seconds: u64) -> LlmError {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> LlmError {
        self.details = details;
        self
    }
}

impl fmt::Display for LlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for LlmError {}
