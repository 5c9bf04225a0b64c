//! The one typed configuration for building a [`crate::Guard`].

use serde::{Deserialize, Serialize};

use crate::injection::ClassifierHandle;
use crate::Detector;

/// Default scan limit: 1 MiB.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 1 << 20;

/// Values never reported, whatever detector finds them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AllowlistConfig {
    /// Regexes (RE2/gitleaks syntax) matched against the flagged value.
    pub regexes: Vec<String>,
    /// Case-insensitive substrings; a flagged value containing one is dropped.
    pub stopwords: Vec<String>,
    /// Exact values to ignore (e.g. a known test card number).
    pub values: Vec<String>,
}

/// Configuration for [`crate::Guard::from_config`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GuardConfig {
    /// Detectors that may run (default: all). `ScanOptions::detectors` narrows this per call.
    pub detectors: Vec<Detector>,
    /// Longest input scanned; longer inputs are scanned up to here and marked `truncated`.
    pub max_input_bytes: usize,
    /// Include the built-in secret rules (default true).
    pub builtin_secret_rules: bool,
    /// Extra secret rule files, each the *contents* of a gitleaks-format TOML document. A rule
    /// with the id of a built-in rule replaces it.
    pub rule_files: Vec<String>,
    /// Rule ids to switch off (any detector).
    pub disabled_rules: Vec<String>,
    /// Values to ignore.
    pub allowlist: AllowlistConfig,
    /// How many layers of base64/hex/percent encoding are decoded and rescanned (default 2).
    pub max_decode_depth: usize,
    /// Optional model-based injection classifier.
    #[serde(skip)]
    pub classifier: Option<ClassifierHandle>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            detectors: Detector::ALL.to_vec(),
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            builtin_secret_rules: true,
            rule_files: Vec::new(),
            disabled_rules: Vec::new(),
            allowlist: AllowlistConfig::default(),
            max_decode_depth: 2,
            classifier: None,
        }
    }
}

impl GuardConfig {
    /// Set the injection classifier.
    pub fn with_classifier(mut self, c: std::sync::Arc<dyn crate::InjectionClassifier>) -> Self {
        self.classifier = Some(ClassifierHandle(c));
        self
    }
}
