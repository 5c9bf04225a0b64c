//! A rule's regex, compiled the first time a scan needs it.
//!
//! Most rules only run after the keyword prefilter wakes them, and on ordinary traffic most are
//! never woken. Compiled up front, the built-in rules held about 27 MB (NFAs, one-pass DFAs) in
//! every server, over half of an idle server's memory. Each is now checked when the rules are
//! loaded (compiled once and dropped, so a bad rule file still fails at start-up with the rule's
//! name) and compiled again, for keeps, on first use. Compiling is deterministic, so the second
//! compilation cannot fail; the first scan that wakes a rule pays for it (tens to hundreds of
//! microseconds, once per process).

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

#[derive(Debug, Clone)]
pub struct LazyRegex {
    pattern: Box<str>,
    size_limit: usize,
    compiled: OnceLock<Regex>,
}

/// regex's own default NFA size limit, for patterns that do not set one.
const DEFAULT_SIZE_LIMIT: usize = 10 * (1 << 20);

impl LazyRegex {
    /// Checks that `pattern` compiles within `size_limit`; returns it uncompiled with the number
    /// of its capture groups (group 0 included).
    pub fn checked(pattern: &str, size_limit: usize) -> Result<(LazyRegex, usize), regex::Error> {
        let captures = build(pattern, size_limit)?.captures_len();
        Ok((
            LazyRegex {
                pattern: pattern.into(),
                size_limit,
                compiled: OnceLock::new(),
            },
            captures,
        ))
    }

    /// A pattern from one of the crate's own tables, which tests compile (see
    /// [`LazyRegex::compiled`]); not checked here, so that start-up does not compile it.
    pub fn of_table(pattern: &'static str) -> LazyRegex {
        LazyRegex {
            pattern: pattern.into(),
            size_limit: DEFAULT_SIZE_LIMIT,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled regex, compiling it on first use.
    pub fn get(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            build(&self.pattern, self.size_limit)
                .unwrap_or_else(|e| panic!("regex {:?} was checked when loaded: {e}", self.pattern))
        })
    }

    /// Whether it has been compiled yet.
    pub fn compiled(&self) -> bool {
        self.compiled.get().is_some()
    }
}

fn build(pattern: &str, size_limit: usize) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).size_limit(size_limit).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_on_first_use_only() {
        let (re, captures) = LazyRegex::checked(r"key_(\w+)", 1 << 20).unwrap();
        assert_eq!(captures, 2);
        assert!(!re.compiled());
        assert!(re.get().is_match(b"key_abc"));
        assert!(re.compiled());
        assert!(LazyRegex::checked("(", 1 << 20).is_err());
        assert!(LazyRegex::checked(r"\w{1000}{1000}", 1 << 20).is_err());
    }
}
