//! Secrets detector: provider-specific and generic credential rules in gitleaks format.
//!
//! Built-in rules live in `rules/secrets.toml` (embedded); users add their own rule files.
//! Each rule is woken by its keywords in the shared prefilter and confirmed on a window.

pub mod gitleaks;
pub mod re2;

use gitleaks::{AllowTarget, Allowlist, RuleSet, SecretRule};

use crate::allowlist::{is_placeholder, looks_like_code};
use crate::entropy::shannon;
use crate::prefilter::{group_by_target, windows, Hit, KeywordIndexBuilder, Target};
use crate::{Detector, Finding, GuardError};

/// The built-in rule file, gitleaks TOML format.
pub const BUILTIN_RULES: &str = include_str!("../../rules/secrets.toml");

/// Bytes of context examined before a keyword hit.
const BEFORE: usize = 160;

/// Compiled secret rules plus allowlists applying to all of them.
#[derive(Debug, Clone)]
pub struct SecretScanner {
    rules: Vec<SecretRule>,
    global: Vec<Allowlist>,
    /// Rules with no keywords: run over the whole text.
    unkeyed: Vec<u32>,
}

impl SecretScanner {
    /// Combine rule sets (later ids replace earlier ones) and drop `disabled` rule ids.
    pub fn new(
        sets: Vec<RuleSet>,
        extra: Vec<Allowlist>,
        disabled: &[String],
    ) -> Result<Self, GuardError> {
        let mut rules: Vec<SecretRule> = Vec::new();
        let mut global = extra;
        for set in sets {
            global.extend(set.global_allowlist);
            for r in set.rules {
                if disabled.contains(&r.id) {
                    continue;
                }
                match rules.iter_mut().find(|x| x.id == r.id) {
                    Some(slot) => *slot = r,
                    None => rules.push(r),
                }
            }
        }
        let unkeyed = (0..rules.len() as u32)
            .filter(|&i| rules[i as usize].keywords.is_empty())
            .collect();
        Ok(SecretScanner {
            rules,
            global,
            unkeyed,
        })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when no rule is loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Register every rule's keywords with the prefilter.
    pub fn register(&self, b: &mut KeywordIndexBuilder) {
        for (i, r) in self.rules.iter().enumerate() {
            for k in &r.keywords {
                b.add(k.as_bytes(), Target::Secret(i as u32));
            }
        }
    }

    /// Evaluate the rules woken by `hits` (all `Target::Secret`, sorted) and the unkeyed rules.
    pub fn scan(&self, text: &[u8], hits: &[Hit], out: &mut Vec<Finding>) {
        let mut found: Vec<(Finding, bool)> = Vec::new();
        for group in group_by_target(hits) {
            let Target::Secret(i) = group[0].target else {
                continue;
            };
            let rule = &self.rules[i as usize];
            for (ws, we) in windows(group, BEFORE, rule.window, text.len()) {
                self.eval(rule, text, ws, we, &mut found);
            }
        }
        for &i in &self.unkeyed {
            self.eval(&self.rules[i as usize], text, 0, text.len(), &mut found);
        }
        resolve_overlaps(found, out);
    }

    fn eval(
        &self,
        rule: &SecretRule,
        text: &[u8],
        ws: usize,
        we: usize,
        out: &mut Vec<(Finding, bool)>,
    ) {
        let hay = &text[..we];
        let mut pos = ws;
        while pos <= we {
            let Some(caps) = rule.regex.get().captures_at(hay, pos) else {
                break;
            };
            let m = caps.get(0).expect("group 0");
            pos = if m.end() > m.start() {
                m.end()
            } else {
                m.end() + 1
            };
            let secret = if rule.secret_group > 0 {
                caps.get(rule.secret_group)
            } else {
                caps.iter().skip(1).flatten().find(|g| !g.is_empty())
            }
            .unwrap_or(m);
            if secret.is_empty() || !self.accept(rule, text, m.range(), secret.range()) {
                continue;
            }
            let (s, e) = (secret.start(), secret.end());
            // Windows of one rule never overlap, so a repeat can only be the latest few.
            if out
                .iter()
                .rev()
                .take(4)
                .any(|(f, _)| f.rule == rule.id && f.start == s)
            {
                continue;
            }
            out.push((
                Finding::new(
                    Detector::Secrets,
                    rule.id.clone(),
                    (s, e),
                    rule.confidence,
                    rule.severity,
                    format!(
                        "{} ({} characters) matched rule {}",
                        rule.description,
                        e - s,
                        rule.id
                    ),
                ),
                rule.generic,
            ));
        }
    }

    fn accept(
        &self,
        rule: &SecretRule,
        text: &[u8],
        whole: std::ops::Range<usize>,
        secret: std::ops::Range<usize>,
    ) -> bool {
        let value = &text[secret.clone()];
        if is_placeholder(value) || (rule.generic && looks_like_code(value)) {
            return false;
        }
        if let Some(min) = rule.entropy {
            if shannon(value) < min {
                return false;
            }
        }
        let listed = |a: &Allowlist| {
            let target = match a.target {
                AllowTarget::Secret => value,
                AllowTarget::Match => &text[whole.clone()],
                AllowTarget::Line => line_of(text, whole.clone()),
            };
            if a.regexes.iter().any(|r| r.get().is_match(target)) {
                return true;
            }
            if a.stopwords.is_empty() {
                return false;
            }
            let lower = value.to_ascii_lowercase();
            a.stopwords
                .iter()
                .any(|w| crate::allowlist::contains(&lower, w.as_bytes()))
        };
        !(rule.allowlists.iter().any(listed) || self.global.iter().any(listed))
    }
}

/// The line of `text` containing `range`.
fn line_of(text: &[u8], range: std::ops::Range<usize>) -> &[u8] {
    let s = text[..range.start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let e = text[range.end..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |p| range.end + p);
    &text[s..e]
}

/// Drop generic-rule findings that overlap a specific-rule finding (the specific one explains
/// more). `found` pairs each finding with whether its rule is generic.
fn resolve_overlaps(mut found: Vec<(Finding, bool)>, out: &mut Vec<Finding>) {
    let mut specific: Vec<(usize, usize)> = found
        .iter()
        .filter(|(_, g)| !g)
        .map(|(f, _)| (f.start, f.end))
        .collect();
    specific.sort_unstable();
    // Longest specific span so far, to bound the backwards look.
    let max_len = specific.iter().map(|(s, e)| e - s).max().unwrap_or(0);
    found.retain(|(f, generic)| {
        if !generic {
            return true;
        }
        let lo = specific.partition_point(|&(s, _)| s + max_len < f.start);
        !specific[lo..]
            .iter()
            .take_while(|&&(s, _)| s < f.end)
            .any(|&(s, e)| s < f.end && f.start < e)
    });
    out.extend(found.into_iter().map(|(f, _)| f));
}
