//! Public value types shared by every detector: what to scan for, what was found, and the report.

use serde::{Deserialize, Serialize};

/// Which way the scanned text flows through Sentinel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Direction {
    /// Text going *to* a tool or model (arguments, prompts).
    #[default]
    Input,
    /// Text coming *back* from a tool or model (results, completions).
    Output,
}

/// A family of checks. Each finding belongs to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Detector {
    /// Credentials, API keys, private keys, tokens, connection strings.
    Secrets,
    /// Personal data: e-mail, phone, cards, IBAN, SSN, IP addresses, weaker context-scored data.
    Pii,
    /// Instructions aimed at the model inside untrusted content, hidden text, exfiltration.
    Injection,
    /// Dangerous shell commands, destructive SQL, path traversal and sensitive paths.
    Command,
}

impl Detector {
    /// All detectors, in a stable order.
    pub const ALL: [Detector; 4] = [
        Detector::Secrets,
        Detector::Pii,
        Detector::Injection,
        Detector::Command,
    ];

    /// The lowercase name used in JSON and config.
    pub fn as_str(self) -> &'static str {
        match self {
            Detector::Secrets => "secrets",
            Detector::Pii => "pii",
            Detector::Injection => "injection",
            Detector::Command => "command",
        }
    }
}

/// How bad a finding is if it is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Worth noting.
    Low,
    /// Probably should be redacted or reviewed.
    Medium,
    /// Should be blocked or redacted.
    High,
    /// Live credentials, destructive commands.
    Critical,
}

/// What to scan for in one call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScanOptions {
    /// Direction of the text; some injection rules only matter on output (untrusted content).
    #[serde(default)]
    pub direction: Direction,
    /// Detectors to run; `None` runs all that the guard has enabled.
    #[serde(default)]
    pub detectors: Option<Vec<Detector>>,
}

impl ScanOptions {
    /// Options that run every enabled detector on text flowing in `direction`.
    pub fn new(direction: Direction) -> Self {
        ScanOptions {
            direction,
            detectors: None,
        }
    }

    /// Restrict the scan to `detectors`.
    pub fn with_detectors(mut self, detectors: impl Into<Vec<Detector>>) -> Self {
        self.detectors = Some(detectors.into());
        self
    }

    /// True when `d` should run under these options.
    pub fn wants(&self, d: Detector) -> bool {
        self.detectors.as_ref().is_none_or(|v| v.contains(&d))
    }
}

/// One thing a detector found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// The detector family.
    pub detector: Detector,
    /// Stable rule id, e.g. `aws-access-key-id`.
    pub rule: String,
    /// Byte offset of the start of the sensitive span in the scanned string.
    pub start: usize,
    /// Byte offset one past the end of the sensitive span.
    pub end: usize,
    /// JSON path of the string the finding is in, when it came from `scan_json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Confidence in `0.0..=1.0`.
    pub score: f32,
    /// Impact if real.
    pub severity: Severity,
    /// Why this was flagged. Never contains the sensitive value itself.
    pub explanation: String,
}

impl Finding {
    /// A finding without a JSON path.
    pub fn new(
        detector: Detector,
        rule: impl Into<String>,
        span: (usize, usize),
        score: f32,
        severity: Severity,
        explanation: impl Into<String>,
    ) -> Self {
        Finding {
            detector,
            rule: rule.into(),
            start: span.0,
            end: span.1,
            path: None,
            score: score.clamp(0.0, 1.0),
            severity,
            explanation: explanation.into(),
        }
    }
}

/// Everything one scan found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScanReport {
    /// Findings ordered by position (then detector).
    pub findings: Vec<Finding>,
    /// True when the input was longer than the configured maximum and only a prefix was scanned.
    pub truncated: bool,
    /// Bytes actually scanned.
    pub bytes_scanned: usize,
}

impl ScanReport {
    /// Highest score among findings of detector `d`, or `0.0`.
    pub fn max_score(&self, d: Detector) -> f32 {
        self.findings
            .iter()
            .filter(|f| f.detector == d)
            .map(|f| f.score)
            .fold(0.0, f32::max)
    }

    /// True when any finding belongs to detector `d`.
    pub fn has(&self, d: Detector) -> bool {
        self.findings.iter().any(|f| f.detector == d)
    }

    /// True when any finding has rule id `rule`.
    pub fn has_rule(&self, rule: &str) -> bool {
        self.findings.iter().any(|f| f.rule == rule)
    }
}
