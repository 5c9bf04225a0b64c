//! The crate's single error type.

/// Errors building a [`crate::Guard`] from configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// A rule file is not valid gitleaks-format TOML.
    #[error("rule file {file}: invalid TOML: {message}")]
    RuleFile {
        /// Which rule file (index or name).
        file: String,
        /// Parser message.
        message: String,
    },
    /// A rule's regular expression does not compile.
    #[error("rule {rule}: invalid regex: {message}")]
    Regex {
        /// Rule id.
        rule: String,
        /// Compiler message.
        message: String,
    },
    /// A rule is missing something it needs, or two rules share an id.
    #[error("rule {rule}: {message}")]
    InvalidRule {
        /// Rule id.
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// A configuration value is out of range.
    #[error("invalid config: {0}")]
    Config(String),
}
