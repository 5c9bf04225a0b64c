//! Sentinel's guard scanners: secrets, PII, prompt injection and dangerous commands, found in one
//! pass over the text, plus redaction.
//!
//! Every piece of text that flows through Sentinel (tool arguments and results, prompts and
//! completions) can be scanned in microseconds. A [`Guard`] is built once; a scan runs one
//! Aho-Corasick automaton over all rule keywords, then confirms only the rules whose keywords
//! hit, on a window around each hit. Number-shaped PII has its own digit prefilter. Findings
//! carry detector, rule id, byte span, score, severity and an explanation that never repeats
//! the sensitive value; [`Guard::redact`] replaces the spans.
//!
//! ```
//! use sentinel_guard::{Detector, Direction, Guard, RedactMode, ScanOptions};
//!
//! let guard = Guard::builtin();
//! let text = "deploy with token ghp_R4nd0mT0k3nV4lu3Qz9xYw8vU7tS6rQ5pO4n please";
//! let report = guard.scan(text, &ScanOptions::new(Direction::Input));
//! assert!(report.has(Detector::Secrets));
//! assert_eq!(report.findings[0].rule, "github-pat");
//! let clean = guard.redact(text, &report.findings, RedactMode::Mask, b"key");
//! assert_eq!(clean, "deploy with token [REDACTED:github-pat] please");
//! ```

mod allowlist;
pub mod command;
mod config;
mod entropy;
mod error;
mod guard;
pub mod injection;
mod json;
mod lazy_regex;
mod pattern;
pub mod pii;
mod prefilter;
mod redact;
pub mod secrets;
mod types;

pub use config::{AllowlistConfig, GuardConfig, DEFAULT_MAX_INPUT_BYTES};
pub use error::GuardError;
pub use guard::Guard;
pub use injection::InjectionClassifier;
pub use redact::RedactMode;
pub use types::{Detector, Direction, Finding, ScanOptions, ScanReport, Severity};
