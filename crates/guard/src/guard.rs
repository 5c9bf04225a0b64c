//! [`Guard`]: the built scanner set, and the one-pass scan that drives every detector.

use std::collections::HashMap;

use crate::lazy_regex::LazyRegex;
use serde_json::Value;

use crate::command::{path as path_check, CommandScanner};
use crate::injection::InjectionScanner;
use crate::pii::PiiScanner;
use crate::prefilter::{Hit, KeywordIndex, KeywordIndexBuilder, Target};
use crate::redact::{redact_text, RedactMode};
use crate::secrets::{gitleaks, SecretScanner, BUILTIN_RULES};
use crate::{json, Detector, Finding, GuardConfig, GuardError, ScanOptions, ScanReport};

/// All detectors, built once from configuration. Immutable, `Send + Sync`, cheap to share
/// behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Guard {
    index: KeywordIndex,
    secrets: SecretScanner,
    pii: PiiScanner,
    injection: InjectionScanner,
    command: CommandScanner,
    enabled: Vec<Detector>,
    max_input_bytes: usize,
    disabled_rules: Vec<String>,
    allow_regexes: Vec<LazyRegex>,
    allow_stopwords: Vec<String>,
    allow_values: Vec<String>,
}

fn family(t: &Target) -> Detector {
    match t {
        Target::Secret(_) => Detector::Secrets,
        Target::Email | Target::PiiContext(_) => Detector::Pii,
        Target::Injection(_) | Target::Hidden => Detector::Injection,
        Target::Command(_) => Detector::Command,
    }
}

impl Guard {
    /// A guard with every built-in detector and rule, default limits.
    pub fn builtin() -> Guard {
        Guard::from_config(&GuardConfig::default()).expect("built-in rules are valid")
    }

    /// Build a guard from configuration: enabled detectors, limits, extra gitleaks rule files,
    /// disabled rules and an allowlist.
    pub fn from_config(cfg: &GuardConfig) -> Result<Guard, GuardError> {
        if cfg.max_input_bytes == 0 {
            return Err(GuardError::Config("max_input_bytes must be > 0".into()));
        }
        let mut sets = Vec::new();
        if cfg.builtin_secret_rules {
            sets.push(gitleaks::parse("builtin", BUILTIN_RULES)?);
        }
        for (i, doc) in cfg.rule_files.iter().enumerate() {
            sets.push(gitleaks::parse(&format!("rule_files[{i}]"), doc)?);
        }
        let secrets = SecretScanner::new(sets, Vec::new(), &cfg.disabled_rules)?;
        let pii = PiiScanner::new();
        let injection = InjectionScanner::new(cfg.classifier.clone(), cfg.max_decode_depth);
        let command = CommandScanner::new();
        let mut b = KeywordIndexBuilder::default();
        secrets.register(&mut b);
        pii.register(&mut b);
        injection.register(&mut b);
        command.register(&mut b);
        let allow_regexes = cfg
            .allowlist
            .regexes
            .iter()
            .map(|r| gitleaks::compile_re2("allowlist", r).map(|(re, _)| re))
            .collect::<Result<_, _>>()?;
        Ok(Guard {
            index: b.build(),
            secrets,
            pii,
            injection,
            command,
            enabled: cfg.detectors.clone(),
            max_input_bytes: cfg.max_input_bytes,
            disabled_rules: cfg.disabled_rules.clone(),
            allow_regexes,
            allow_stopwords: cfg
                .allowlist
                .stopwords
                .iter()
                .map(|s| s.to_lowercase())
                .collect(),
            allow_values: cfg.allowlist.values.clone(),
        })
    }

    /// Number of secret rules loaded (built-in plus user).
    pub fn secret_rule_count(&self) -> usize {
        self.secrets.len()
    }

    /// Scan `text` once for everything `opts` asks for.
    pub fn scan(&self, text: &str, opts: &ScanOptions) -> ScanReport {
        let (text, truncated) = self.clip(text, self.max_input_bytes);
        let findings = self.scan_clipped(text, opts);
        ScanReport {
            findings,
            truncated,
            bytes_scanned: text.len(),
        }
    }

    fn clip<'a>(&self, text: &'a str, limit: usize) -> (&'a str, bool) {
        if text.len() <= limit {
            return (text, false);
        }
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        (&text[..end], true)
    }

    fn scan_clipped(&self, text: &str, opts: &ScanOptions) -> Vec<Finding> {
        let want = |d: Detector| self.enabled.contains(&d) && opts.wants(d);
        let bytes = text.as_bytes();
        let hits = self.index.hits(bytes, |t| want(family(t)));
        let slice = |d: Detector| -> Vec<Hit> {
            hits.iter()
                .filter(|h| family(&h.target) == d)
                .copied()
                .collect()
        };
        let mut out = Vec::new();
        if want(Detector::Secrets) {
            self.secrets
                .scan(bytes, &slice(Detector::Secrets), &mut out);
        }
        if want(Detector::Pii) {
            self.pii.scan(bytes, &slice(Detector::Pii), &mut out);
        }
        if want(Detector::Injection) {
            let h = slice(Detector::Injection);
            self.injection
                .scan(text, &h, &self.index, opts.direction, &mut out);
        }
        if want(Detector::Command) {
            self.command
                .scan(bytes, &slice(Detector::Command), &mut out);
        }
        self.finish(text, out)
    }

    /// Drop disabled and allowlisted findings, de-duplicate, and order by position.
    fn finish(&self, text: &str, mut out: Vec<Finding>) -> Vec<Finding> {
        let bytes = text.as_bytes();
        out.retain(|f| {
            if self.disabled_rules.contains(&f.rule) {
                return false;
            }
            let v = &bytes[f.start.min(bytes.len())..f.end.min(bytes.len())];
            if self.allow_regexes.iter().any(|r| r.get().is_match(v)) {
                return false;
            }
            if self.allow_values.iter().any(|a| a.as_bytes() == v) {
                return false;
            }
            if !self.allow_stopwords.is_empty() {
                let lower = v.to_ascii_lowercase();
                if self
                    .allow_stopwords
                    .iter()
                    .any(|w| crate::allowlist::contains(&lower, w.as_bytes()))
                {
                    return false;
                }
            }
            true
        });
        out.sort_by(|a, b| {
            (a.start, a.detector, std::cmp::Reverse(a.end), &a.rule)
                .cmp(&(b.start, b.detector, std::cmp::Reverse(b.end), &b.rule))
                .then(b.score.total_cmp(&a.score))
        });
        out.dedup_by(|b, a| {
            a.detector == b.detector && a.rule == b.rule && a.start == b.start && a.end == b.end
        });
        // A PII finding inside a secret (the host part of a connection string) is the secret's.
        let secret_spans: Vec<(usize, usize)> = out
            .iter()
            .filter(|f| f.detector == Detector::Secrets)
            .map(|f| (f.start, f.end))
            .collect();
        if !secret_spans.is_empty() {
            out.retain(|f| {
                f.detector != Detector::Pii
                    || !secret_spans.iter().any(|&(s, e)| f.start < e && s < f.end)
            });
        }
        out
    }

    /// Scan every string (and object key) of a JSON value. Findings carry the JSON path of their
    /// string and byte offsets into that string. The byte limit applies to the sum of strings.
    pub fn scan_json(&self, value: &Value, opts: &ScanOptions) -> ScanReport {
        let mut report = ScanReport::default();
        let mut budget = self.max_input_bytes;
        json::walk(value, "$", &mut |path, s| {
            if budget == 0 {
                report.truncated |= !s.is_empty();
                return;
            }
            let (clipped, cut) = self.clip(s, budget);
            budget -= clipped.len();
            report.truncated |= cut;
            report.bytes_scanned += clipped.len();
            for mut f in self.scan_clipped(clipped, opts) {
                f.path = Some(path.to_string());
                report.findings.push(f);
            }
        });
        report
    }

    /// Replace the spans of `findings` in `text`.
    pub fn redact(&self, text: &str, findings: &[Finding], mode: RedactMode, key: &[u8]) -> String {
        redact_text(
            text,
            findings.iter().filter(|f| f.path.is_none()),
            mode,
            key,
        )
    }

    /// Redact the strings (and keys) of `value` that `findings` (from [`Guard::scan_json`]) point at.
    pub fn redact_json(
        &self,
        value: &Value,
        findings: &[Finding],
        mode: RedactMode,
        key: &[u8],
    ) -> Value {
        let mut by_path: HashMap<&str, Vec<&Finding>> = HashMap::new();
        for f in findings {
            if let Some(p) = &f.path {
                by_path.entry(p.as_str()).or_default().push(f);
            }
        }
        let mut v = value.clone();
        json::rewrite(&mut v, "$", &mut |path, s| {
            by_path
                .get(path)
                .map(|fs| redact_text(s, fs.iter().copied(), mode, key))
        });
        v
    }

    /// Check a shell command (or SQL statement) a tool is about to run.
    pub fn validate_command(&self, cmd: &str) -> ScanReport {
        let (cmd, truncated) = self.clip(cmd, self.max_input_bytes);
        let mut out = Vec::new();
        self.command.validate(cmd.as_bytes(), &mut out);
        // Credential paths inside a command are also path findings.
        ScanReport {
            findings: self.finish(cmd, out),
            truncated,
            bytes_scanned: cmd.len(),
        }
    }

    /// Check a file path a tool is about to read or write.
    pub fn validate_path(&self, path: &str) -> ScanReport {
        let (path, truncated) = self.clip(path, self.max_input_bytes);
        let mut out = Vec::new();
        path_check::validate(path, &mut out);
        ScanReport {
            findings: self.finish(path, out),
            truncated,
            bytes_scanned: path.len(),
        }
    }
}
