//! The single keyword prefilter: one Aho-Corasick automaton over every rule's keywords.
//!
//! A scan runs the automaton once over the text and reports *every* occurrence of every keyword
//! (overlapping ones too). Each keyword maps to the rules that need it; only those rules' regexes
//! run afterwards, and only on a window around each hit.
//!
//! The automaton is a DFA, so one step is one table load that depends on the previous step.
//! Prose and code keep it in its first few hundred states, which do not all fit in L1 cache,
//! so a single pass is bound by load latency. [`KeywordIndex::hits`] therefore walks
//! [`STREAMS`] slices of the text in lockstep, with one state each: the loads of different
//! slices are independent and overlap in the CPU.

use std::collections::HashMap;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{dfa, nfa::contiguous, Anchored, MatchKind, PatternID, StartKind};

/// Longest keyword prefix put into the automaton.
const MAX_KEYWORD: usize = 24;

/// Slices of the text the automaton walks in lockstep.
const STREAMS: usize = 8;

/// Texts shorter than this per stream are walked in one stream.
const MIN_STREAM_LEN: usize = 256;

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

    /// Build the automaton: a DFA, or a contiguous NFA when user rules make the DFA too big.
    pub fn build(self) -> KeywordIndex {
        let automaton = dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(&self.patterns)
            .map(KeywordAutomaton::Dfa)
            .or_else(|_| {
                contiguous::NFA::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .prefilter(false)
                    .build(&self.patterns)
                    .map(KeywordAutomaton::Nfa)
            })
            .expect("keyword automaton builds");
        KeywordIndex {
            automaton,
            lens: self.patterns.iter().map(Vec::len).collect(),
            max_len: self.patterns.iter().map(Vec::len).max().unwrap_or(0),
            targets: self.targets,
        }
    }
}

#[derive(Debug, Clone)]
enum KeywordAutomaton {
    Dfa(dfa::DFA),
    Nfa(contiguous::NFA),
}

/// The built automaton and the rules behind each keyword.
#[derive(Debug, Clone)]
pub struct KeywordIndex {
    automaton: KeywordAutomaton,
    lens: Vec<usize>,
    max_len: usize,
    targets: Vec<Vec<Target>>,
}

impl KeywordIndex {
    /// Find every keyword occurrence and return the hits, sorted by target then position.
    /// `wanted` filters targets before they are recorded.
    pub fn hits(&self, text: &[u8], wanted: impl Fn(&Target) -> bool) -> Vec<Hit> {
        let mut out = Vec::new();
        let mut emit = |pid: PatternID, end: usize| {
            let start = end - self.lens[pid.as_usize()];
            for t in &self.targets[pid.as_usize()] {
                if wanted(t) {
                    out.push(Hit {
                        target: *t,
                        start,
                        end,
                    });
                }
            }
        };
        match &self.automaton {
            KeywordAutomaton::Dfa(a) => all_matches(a, text, self.max_len, &mut emit),
            KeywordAutomaton::Nfa(a) => all_matches(a, text, self.max_len, &mut emit),
        }
        out.sort_unstable();
        out
    }
}

/// Report every match of `a` in `text` as (pattern, end offset), in no particular order.
/// `max_len` is the longest pattern's length.
fn all_matches<A: Automaton>(
    a: &A,
    text: &[u8],
    max_len: usize,
    emit: &mut impl FnMut(PatternID, usize),
) {
    let start = a
        .start_state(Anchored::No)
        .expect("unanchored search is enabled");
    let len = text.len() / STREAMS;
    if len < MIN_STREAM_LEN {
        let mut sid = start;
        for (at, &b) in text.iter().enumerate() {
            sid = a.next_state(Anchored::No, sid, b);
            if a.is_special(sid) {
                report(a, sid, at, emit);
            }
        }
        return;
    }
    // Each stream first reads the `max_len` bytes before its slice without reporting: its state
    // is then exact at the slice start, and matches ending before it belong to the previous one.
    let mut sids: [StateID; STREAMS] = std::array::from_fn(|k| {
        let from = k * len;
        text[from.saturating_sub(max_len)..from]
            .iter()
            .fold(start, |sid, &b| a.next_state(Anchored::No, sid, b))
    });
    let slices: [&[u8]; STREAMS] = std::array::from_fn(|k| &text[k * len..(k + 1) * len]);
    // `i` indexes all eight slices at once.
    #[allow(clippy::needless_range_loop)]
    for i in 0..len {
        for k in 0..STREAMS {
            sids[k] = a.next_state(Anchored::No, sids[k], slices[k][i]);
            if a.is_special(sids[k]) {
                report(a, sids[k], k * len + i, emit);
            }
        }
    }
    let last = STREAMS - 1;
    for (at, &b) in text.iter().enumerate().skip(STREAMS * len) {
        sids[last] = a.next_state(Anchored::No, sids[last], b);
        if a.is_special(sids[last]) {
            report(a, sids[last], at, emit);
        }
    }
}

/// Report the matches of special state `sid`, entered on the byte at `at`. Kept out of line so
/// that the search loop stays small and its states stay in registers.
#[cold]
#[inline(never)]
fn report<A: Automaton>(a: &A, sid: StateID, at: usize, emit: &mut impl FnMut(PatternID, usize)) {
    if a.is_match(sid) {
        for i in 0..a.match_len(sid) {
            emit(a.match_pattern(sid, i), at + 1);
        }
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
    fn streams_find_every_occurrence_also_across_slice_borders() {
        let keywords: [&[u8]; 5] = [b"secret", b"cret", b"ghp_", b"ignore all", b"@"];
        let mut b = KeywordIndexBuilder::default();
        for (i, k) in keywords.iter().enumerate() {
            b.add(k, Target::Secret(i as u32));
        }
        let idx = b.build();
        // Long enough for every stream; keywords at every offset around slice borders.
        for len in [4096usize, 5000, 8 * MIN_STREAM_LEN + 7] {
            for shift in 0..12 {
                let mut text = vec![b'.'; len];
                let mut p = shift;
                let mut n = 0;
                while p + 12 < len {
                    let k = keywords[n % keywords.len()];
                    text[p..p + k.len()].copy_from_slice(k);
                    text[p] = text[p].to_ascii_uppercase();
                    p += 37 + n % 5;
                    n += 1;
                }
                let mut want = Vec::new();
                for (i, k) in keywords.iter().enumerate() {
                    for s in 0..=len - k.len() {
                        if text[s..s + k.len()].eq_ignore_ascii_case(k) {
                            want.push(Hit {
                                target: Target::Secret(i as u32),
                                start: s,
                                end: s + k.len(),
                            });
                        }
                    }
                }
                want.sort_unstable();
                assert_eq!(idx.hits(&text, |_| true), want, "len {len} shift {shift}");
                // The NFA used when user rules make the DFA too big walks the same way.
                let nfa = KeywordIndex {
                    automaton: KeywordAutomaton::Nfa(
                        contiguous::NFA::builder()
                            .ascii_case_insensitive(true)
                            .match_kind(MatchKind::Standard)
                            .build(keywords)
                            .expect("nfa"),
                    ),
                    ..idx.clone()
                };
                assert_eq!(
                    nfa.hits(&text, |_| true),
                    want,
                    "nfa len {len} shift {shift}"
                );
            }
        }
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
