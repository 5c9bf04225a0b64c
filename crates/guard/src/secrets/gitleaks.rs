//! Load secret rules written in the gitleaks TOML format.
//!
//! Supported per rule: `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`,
//! `[rules.allowlist]` / `[[rules.allowlists]]` (`regexes`, `regexTarget`, `stopwords`) and a
//! top-level `[allowlist]`. Path-only rules (no `regex`) are skipped: Sentinel scans text, not files.
//! Sentinel-specific optional keys: `severity`, `confidence`, `window`, `generic`.

use crate::lazy_regex::LazyRegex;
use serde::Deserialize;

use super::re2;
use crate::{GuardError, Severity};

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: String,
    #[serde(default)]
    description: String,
    regex: Option<String>,
    #[serde(default)]
    secret_group: usize,
    entropy: Option<f32>,
    #[serde(default)]
    keywords: Vec<String>,
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    severity: Option<Severity>,
    confidence: Option<f32>,
    window: Option<usize>,
    #[serde(default)]
    generic: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawAllowlist {
    #[serde(default)]
    regexes: Vec<String>,
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowTarget {
    /// The extracted secret (default).
    Secret,
    /// The whole regex match.
    Match,
    /// The line containing the match.
    Line,
}

/// A compiled allowlist: a candidate is dropped when any regex or stopword matches.
#[derive(Debug, Clone)]
pub struct Allowlist {
    pub regexes: Vec<LazyRegex>,
    pub target: AllowTarget,
    /// Lowercased stopwords; dropped when the secret contains one.
    pub stopwords: Vec<String>,
}

/// One compiled secret rule.
#[derive(Debug, Clone)]
pub struct SecretRule {
    pub id: String,
    pub description: String,
    pub regex: LazyRegex,
    pub secret_group: usize,
    pub entropy: Option<f32>,
    /// Lowercased keywords; empty means the rule runs on the whole text.
    pub keywords: Vec<String>,
    pub allowlists: Vec<Allowlist>,
    pub severity: Severity,
    pub confidence: f32,
    /// Bytes of context examined after a keyword hit.
    pub window: usize,
    /// Generic assignment rule: also reject code expressions as values.
    pub generic: bool,
}

/// Rules and the file-level allowlist from one rule file.
pub struct RuleSet {
    pub rules: Vec<SecretRule>,
    pub global_allowlist: Option<Allowlist>,
}

/// Check a regex written for Go RE2 as a byte regex with ASCII shorthand classes; it is
/// compiled on first use. Returns it with its number of capture groups (group 0 included).
pub fn compile_re2(rule: &str, pattern: &str) -> Result<(LazyRegex, usize), GuardError> {
    LazyRegex::checked(&re2::translate(pattern), 8 << 20).map_err(|e| GuardError::Regex {
        rule: rule.to_string(),
        message: e.to_string(),
    })
}

fn compile_allowlist(rule: &str, raw: RawAllowlist) -> Result<Allowlist, GuardError> {
    let target = match raw.regex_target.as_deref() {
        None | Some("secret") | Some("") => AllowTarget::Secret,
        Some("match") => AllowTarget::Match,
        Some("line") => AllowTarget::Line,
        Some(other) => {
            return Err(GuardError::InvalidRule {
                rule: rule.to_string(),
                message: format!("unknown regexTarget {other:?}"),
            })
        }
    };
    let regexes = raw
        .regexes
        .iter()
        .map(|r| compile_re2(rule, r).map(|(re, _)| re))
        .collect::<Result<_, _>>()?;
    Ok(Allowlist {
        regexes,
        target,
        stopwords: raw.stopwords.iter().map(|s| s.to_lowercase()).collect(),
    })
}

/// Parse one gitleaks-format TOML document. `name` is used in error messages.
pub fn parse(name: &str, toml_text: &str) -> Result<RuleSet, GuardError> {
    let raw: RawFile = toml::from_str(toml_text).map_err(|e| GuardError::RuleFile {
        file: name.to_string(),
        message: e.to_string(),
    })?;
    let mut rules = Vec::with_capacity(raw.rules.len());
    for r in raw.rules {
        let Some(pattern) = r.regex else { continue };
        let (regex, captures) = compile_re2(&r.id, &pattern)?;
        if r.secret_group > captures.saturating_sub(1) {
            return Err(GuardError::InvalidRule {
                rule: r.id,
                message: format!("secretGroup {} does not exist", r.secret_group),
            });
        }
        let mut allowlists = Vec::new();
        for a in r.allowlist.into_iter().chain(r.allowlists) {
            allowlists.push(compile_allowlist(&r.id, a)?);
        }
        rules.push(SecretRule {
            description: if r.description.is_empty() {
                r.id.clone()
            } else {
                r.description
            },
            regex,
            secret_group: r.secret_group,
            entropy: r.entropy,
            keywords: r.keywords.iter().map(|k| k.to_lowercase()).collect(),
            allowlists,
            severity: r.severity.unwrap_or(Severity::High),
            confidence: r.confidence.unwrap_or(0.8).clamp(0.0, 1.0),
            window: r.window.unwrap_or(512).clamp(64, 65536),
            generic: r.generic,
            id: r.id,
        });
    }
    let global_allowlist = raw
        .allowlist
        .map(|a| compile_allowlist("allowlist", a))
        .transpose()?;
    Ok(RuleSet {
        rules,
        global_allowlist,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
title = "user rules"

[allowlist]
stopwords = ["testtoken"]

[[rules]]
id = "acme-token"
description = "Acme API token"
regex = '''\b(acme_[a-z0-9]{16})\b'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]

[rules.allowlist]
regexes = ['''acme_0{16}''']

[[rules]]
id = "path-only"
path = '''\.pem$'''
"#;

    #[test]
    fn parses_gitleaks_format() {
        let set = parse("sample", SAMPLE).unwrap();
        assert_eq!(set.rules.len(), 1);
        let r = &set.rules[0];
        assert_eq!(r.id, "acme-token");
        assert_eq!(r.secret_group, 1);
        assert_eq!(r.keywords, vec!["acme_"]);
        assert_eq!(r.allowlists.len(), 1);
        assert!(set.global_allowlist.is_some());
    }

    #[test]
    fn rejects_bad_regex_and_group() {
        let bad = "[[rules]]\nid='x'\nregex='''(['''\n";
        assert!(matches!(parse("b", bad), Err(GuardError::Regex { .. })));
        let bad = "[[rules]]\nid='x'\nregex='''abc'''\nsecretGroup=2\n";
        assert!(matches!(
            parse("b", bad),
            Err(GuardError::InvalidRule { .. })
        ));
        assert!(matches!(
            parse("b", "[[rules"),
            Err(GuardError::RuleFile { .. })
        ));
    }
}
