//! Keyword-triggered regex rules shared by the PII-context, injection and command detectors.
//!
//! A rule names literal keywords for the prefilter and a regex confirmed on a window around each
//! keyword hit. An optional per-rule check can reject a match or change its score.

use regex::bytes::Regex;

use crate::lazy_regex::LazyRegex;

use crate::prefilter::{group_by_target, windows, Hit, KeywordIndexBuilder, Target};
use crate::{Detector, Finding, Severity};

/// A whole-match [`PatternSpec`] confirmed on a window of `before`/`after` bytes around its
/// keyword. Each detector module wraps it with its own window, so its rule table stays terse.
macro_rules! windowed_rule {
    ($before:expr, $after:expr; $id:expr, $kw:expr, $re:expr, $score:expr, $sev:expr, $why:expr) => {
        $crate::pattern::PatternSpec {
            id: $id,
            keywords: $kw,
            regex: $re,
            group: 0,
            score: $score,
            severity: $sev,
            explanation: $why,
            before: $before,
            after: $after,
        }
    };
}
pub(crate) use windowed_rule;

/// A rule as written in a detector's table.
#[derive(Debug)]
pub struct PatternSpec {
    /// Stable rule id.
    pub id: &'static str,
    /// Literal keywords (ASCII case-insensitive) that wake the rule.
    pub keywords: &'static [&'static str],
    /// Regex confirmed on the window; group `group` (0 = whole match) is the finding's span.
    pub regex: &'static str,
    /// Capture group giving the span.
    pub group: usize,
    /// Base score.
    pub score: f32,
    /// Severity when found.
    pub severity: Severity,
    /// Human explanation (never includes the matched text).
    pub explanation: &'static str,
    /// Bytes of context before the keyword.
    pub before: usize,
    /// Bytes of context after the keyword.
    pub after: usize,
}

/// A post-match check: given the rule, the text and the match span, return the score to use or
/// `None` to reject the match.
pub type Check = fn(&PatternSpec, &[u8], std::ops::Range<usize>) -> Option<f32>;

/// Compiled rules of one detector.
#[derive(Debug, Clone)]
pub struct PatternSet {
    specs: Vec<&'static PatternSpec>,
    regexes: Vec<LazyRegex>,
}

impl PatternSet {
    /// Compile a static rule table.
    pub fn compile(specs: &'static [PatternSpec]) -> Self {
        Self::compile_tables(&[specs])
    }

    /// Several tables as one set; rule indexes run through them in order. Each rule's regex is
    /// compiled when a scan first needs it: the tables are part of the crate, and a test
    /// compiles every one ([`PatternSet::compile_all`]).
    pub fn compile_tables(tables: &[&'static [PatternSpec]]) -> Self {
        let specs: Vec<&'static PatternSpec> = tables.iter().flat_map(|t| t.iter()).collect();
        let regexes = specs.iter().map(|s| LazyRegex::of_table(s.regex)).collect();
        PatternSet { specs, regexes }
    }

    /// Compiles every rule's regex now; panics, naming the pattern, on one that does not.
    #[cfg(test)]
    pub fn compile_all(&self) {
        for re in &self.regexes {
            re.get();
        }
    }

    /// Register keywords; `target` turns a rule index into a prefilter target.
    pub fn register(&self, b: &mut KeywordIndexBuilder, target: fn(u32) -> Target) {
        for (i, s) in self.specs.iter().enumerate() {
            for k in s.keywords {
                b.add(k.as_bytes(), target(i as u32));
            }
        }
    }

    /// Confirm the rules woken by `hits` (sorted; `index` extracts the rule index of a target).
    pub fn scan(
        &self,
        text: &[u8],
        hits: &[Hit],
        index: fn(Target) -> Option<u32>,
        detector: Detector,
        check: Check,
        out: &mut Vec<Finding>,
    ) {
        for group in group_by_target(hits) {
            let Some(i) = index(group[0].target) else {
                continue;
            };
            let (spec, re) = (self.specs[i as usize], self.regexes[i as usize].get());
            for (ws, we) in windows(group, spec.before, spec.after, text.len()) {
                self.eval_window(spec, re, text, (ws, we), detector, check, out);
            }
        }
    }

    /// Run every rule over the whole of `text` (used by `validate_command`, where the text is
    /// short and all of it is the command).
    pub fn scan_all(&self, text: &[u8], detector: Detector, check: Check, out: &mut Vec<Finding>) {
        for (spec, re) in self.specs.iter().zip(&self.regexes) {
            self.eval_window(spec, re.get(), text, (0, text.len()), detector, check, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_window(
        &self,
        spec: &PatternSpec,
        re: &Regex,
        text: &[u8],
        (ws, we): (usize, usize),
        detector: Detector,
        check: Check,
        out: &mut Vec<Finding>,
    ) {
        let hay = &text[..we];
        let mut pos = ws;
        while pos <= we {
            let Some(caps) = re.captures_at(hay, pos) else {
                break;
            };
            let m = caps.get(0).expect("group 0");
            pos = if m.end() > m.start() {
                m.end()
            } else {
                m.end() + 1
            };
            let span = caps.get(spec.group).unwrap_or(m).range();
            let Some(score) = check(spec, text, m.range()) else {
                continue;
            };
            if out
                .iter()
                .rev()
                .take(8)
                .any(|f| f.rule == spec.id && f.start == span.start)
            {
                continue;
            }
            out.push(Finding::new(
                detector,
                spec.id,
                (span.start, span.end),
                score,
                spec.severity,
                spec.explanation,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PatternSet;

    /// Servers compile these lazily, when a scan first needs a rule; here, all of them.
    #[test]
    fn every_builtin_table_compiles() {
        for table in [
            crate::pii::context::RULES,
            crate::command::shell::RULES,
            crate::command::sql::RULES,
            crate::injection::phrases::RULES,
            crate::injection::jailbreak::RULES,
        ] {
            PatternSet::compile_tables(&[table]).compile_all();
        }
    }
}
