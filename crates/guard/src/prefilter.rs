//! The single keyword prefilter: one Aho-Corasick automaton over every rule's keywords.
//!
//! A scan runs the automaton once over the text. Each keyword maps to the rules that need it;
//! only those rules' regexes run afterwards, and only on a window around each hit.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// Longest keyword prefix put into the automaton.
const MAX_KEYWORD: usize = 24;

/// Which rule a keyword hit wakes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Index into the secret rules.
    Secret(u32),
    /// An e-mail address candidate (`@`).
    Email,
    /// Index into the PII context rules.
    PiiContext(u32),
    /// Index into the injection phrase rules.
    Injection(u32),
    /// An invisible or bidi-control character.
    Hidden,
    /// Index into the command rules.
    Command(u32),
}

/// A keyword hit: which rule, and the byte span of the keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub target: Target,
    pub start: usize,
    pub end: usize,
}

/// Collects keywords before building the automaton.
#[derive(Default)]
pub struct KeywordIndexBuilder {
    patterns: Vec<Vec<u8>>,
    targets: Vec<Vec<Target>>,
    by_pattern: HashMap<Vec<u8>, usize>,
}

impl KeywordIndexBuilder {
    /// Register `keyword` (matched ASCII-case-insensitively) as a trigger for `target`.
    pub fn add(&mut self, keyword: &[u8], target: Target) {
        // Only a keyword's first bytes go into the automaton: the rule's regex confirms the rest,
        // and short patterns keep the DFA small enough to stay in cache.
        let key = keyword[..keyword.len().min(MAX_KEYWORD)].to_ascii_lowercase();
        if key.is_empty() {
            return;
        }
        let idx = *self.by_pattern.entry(key.clone()).or_insert_with(|| {
            self.patterns.push(key);
            self.targets.push(Vec::new());
            self.patterns.len() - 1
        });
        if !self.targets[idx].contains(&target) {
            self.targets[idx].push(target);
        }
    }

    /// Build the automaton.
    ///
    /// The automaton reports leftmost-first, non-overlapping matches (much faster than
    /// overlapping search). So that no rule is lost when a keyword sits inside a longer one,
    /// longer keywords come first and inherit the targets of every keyword they contain.
    pub fn build(self) -> KeywordIndex {
        let mut order: Vec<usize> = (0..self.patterns.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.patterns[i].len()));
        let mut patterns = Vec::with_capacity(order.len());
        let mut targets = Vec::with_capacity(order.len());
        for &i in &order {
            let p = &self.patterns[i];
            let mut t = self.targets[i].clone();
            for (j, q) in self.patterns.iter().enumerate() {
                if j != i && q.len() < p.len() && p.windows(q.len()).any(|w| w == q.as_slice()) {
                    for x in &self.targets[j] {
                        if !t.contains(x) {
                            t.push(*x);
                        }
                    }
                }
            }
            patterns.push(p.clone());
            targets.push(t);
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .or_else(|_| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&patterns)
            })
            .expect("keyword automaton builds");
        KeywordIndex { ac, targets }
    }
}

/// The built automaton and the rules behind each keyword.
#[derive(Debug, Clone)]
pub struct KeywordIndex {
    ac: AhoCorasick,
    targets: Vec<Vec<Target>>,
}

impl KeywordIndex {
    /// Run the automaton once and return every hit, sorted by target then position.
    /// `wanted` filters targets before they are recorded.
    pub fn hits(&self, text: &[u8], wanted: impl Fn(&Target) -> bool) -> Vec<Hit> {
        let mut out = Vec::new();
        for m in self.ac.find_iter(text) {
            for t in &self.targets[m.pattern().as_usize()] {
                if wanted(t) {
                    out.push(Hit {
                        target: *t,
                        start: m.start(),
                        end: m.end(),
                    });
                }
            }
        }
        out.sort_unstable();
        out
    }
}

/// Merge keyword hits into non-overlapping windows `[start - before, end + after]` clamped to
/// `len`. `hits` must be sorted by start.
pub fn windows(hits: &[Hit], before: usize, after: usize, len: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for h in hits {
        let s = h.start.saturating_sub(before);
        let e = (h.end + after).min(len);
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Group a sorted hit list into runs that share the same target.
pub fn group_by_target(hits: &[Hit]) -> impl Iterator<Item = &[Hit]> {
    hits.chunk_by(|a, b| a.target == b.target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_overlapping_case_insensitive_keywords() {
        let mut b = KeywordIndexBuilder::default();
        b.add(b"ghp_", Target::Secret(0));
        b.add(b"GH", Target::Secret(1));
        b.add(b"ignore", Target::Injection(0));
        let idx = b.build();
        let hits = idx.hits(b"x GHP_abc IGNORE", |_| true);
        let targets: Vec<_> = hits.iter().map(|h| h.target).collect();
        // "ghp_" contains "gh": one match wakes both rules.
        assert_eq!(
            targets,
            vec![Target::Secret(0), Target::Secret(1), Target::Injection(0)]
        );
        let hits = idx.hits(b"x GHP_abc IGNORE", |t| matches!(t, Target::Injection(_)));
        assert_eq!(hits.len(), 1);
    }

    #[test]
    fn merges_windows() {
        let h = |s, e| Hit {
            target: Target::Email,
            start: s,
            end: e,
        };
        let w = windows(&[h(10, 11), h(20, 21), h(500, 501)], 5, 10, 505);
        assert_eq!(w, vec![(5, 31), (495, 505)]);
    }
}
