//! `regex.match`, `regex.split` and `glob.match` for the bytecode VM, with compiled patterns
//! that keep their match caches.
//!
//! regorus caches compiled patterns, but hands each call a `clone()` of the cached matcher, and
//! cloning a `regex::Regex` (a glob matcher is one inside) starts it with an empty cache pool:
//! every match then builds a fresh lazy DFA, which was about a third of a 100-rule policy's
//! evaluation time. Here each worker thread keeps its own matchers, so a pattern's DFA states
//! are built once per thread and reused by every later decision.
//!
//! The replacements are exact: the same pattern compiles with the same settings, and anything
//! but the plain case (a non-string argument, an invalid pattern, a delimiter list regorus
//! refuses) is handed to regorus's own builtin, so errors and their messages are regorus's. A
//! test holds the VM with these builtins equal to the interpreter, which always runs regorus's.
//! [`crate::vm_guard`] puts them into a program.

use std::cell::RefCell;
use std::collections::HashMap;

use anyhow::Result;
use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};
use regorus::unstable::{Expr, Ref, Span, BUILTINS};
use regorus::Value;

/// regorus's limit on a compiled regex (`builtins/regex.rs`), kept so that a pattern it refuses
/// as too big is refused here too (by falling back to regorus, which reports it).
const REGEX_SIZE_LIMIT: usize = 100 * 1024;
/// Patterns kept per thread; past this the thread's cache starts over (patterns built from
/// input could otherwise grow it without bound).
const PER_THREAD: usize = 512;
/// regorus's stand-in for a `/` that must not act as a path separator in `glob.match`.
const PLACE_HOLDER: &str = "\0";

thread_local! {
    static REGEXES: RefCell<HashMap<Box<str>, Regex>> = RefCell::new(HashMap::new());
    static GLOBS: RefCell<HashMap<Box<str>, GlobMatcher>> = RefCell::new(HashMap::new());
}

/// regorus's own implementation of `name`, for every case the fast path does not take.
fn regorus_builtin(
    name: &str,
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    strict: bool,
) -> Result<Value> {
    let (builtin, _) = BUILTINS
        .get(name)
        .ok_or_else(|| anyhow::anyhow!("regorus has no builtin {name}"))?;
    builtin(span, params, args, strict)
}

pub(crate) fn regex_match(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    strict: bool,
) -> Result<Value> {
    let fast = match args {
        [Value::String(pattern), Value::String(value)] => {
            with_cached(&REGEXES, pattern, compile_regex, |re| {
                Value::Bool(re.is_match(value))
            })
        }
        _ => None,
    };
    fast.map_or_else(
        || regorus_builtin("regex.match", span, params, args, strict),
        Ok,
    )
}

pub(crate) fn regex_split(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    strict: bool,
) -> Result<Value> {
    let fast = match args {
        [Value::String(pattern), Value::String(value)] => {
            with_cached(&REGEXES, pattern, compile_regex, |re| {
                Value::from(re.split(value).map(Value::from).collect::<Vec<_>>())
            })
        }
        _ => None,
    };
    fast.map_or_else(
        || regorus_builtin("regex.split", span, params, args, strict),
        Ok,
    )
}

pub(crate) fn glob_match(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    strict: bool,
) -> Result<Value> {
    let fast = match args {
        [Value::String(pattern), delimiters, Value::String(value)] => {
            glob_inputs(pattern, delimiters, value).and_then(|(pattern, value)| {
                with_cached(&GLOBS, &pattern, compile_glob, |glob| {
                    Value::Bool(glob.is_match(value.as_str()))
                })
            })
        }
        _ => None,
    };
    fast.map_or_else(
        || regorus_builtin("glob.match", span, params, args, strict),
        Ok,
    )
}

/// A pattern as regorus compiles it; `None` for any error (regorus then reports it).
fn compile_regex(pattern: &str) -> Option<Regex> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .ok()
}

/// A glob as regorus compiles it (after [`glob_inputs`]); `None` for any error.
fn compile_glob(pattern: &str) -> Option<GlobMatcher> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

/// The pattern and value as regorus rewrites them before matching, so that the delimiters
/// separate path components and nothing else does. `None` where regorus would report an error.
fn glob_inputs(pattern: &str, delimiters: &Value, value: &str) -> Option<(String, String)> {
    let delimiters = Delimiters::of(delimiters)?;
    Some((delimiters.rewrite(pattern)?, delimiters.rewrite(value)?))
}

/// `glob.match`'s delimiters, as regorus reads them.
#[derive(Debug)]
pub(crate) enum Delimiters {
    /// `null`: no delimiter, and `/` is no separator either.
    None,
    Chars(Vec<char>),
}

impl Delimiters {
    /// `None` where regorus would report an error.
    fn of(delimiters: &Value) -> Option<Delimiters> {
        match delimiters {
            Value::Null => Some(Delimiters::None),
            Value::Array(items) => {
                let mut chars = Vec::with_capacity(items.len());
                for item in items.iter() {
                    let Value::String(d) = item else { return None };
                    if d.len() > 1 {
                        return None;
                    }
                    chars.extend(d.chars().next());
                }
                if chars.is_empty() {
                    chars.push('.');
                }
                Some(Delimiters::Chars(chars))
            }
            _ => None,
        }
    }

    /// One side of a `glob.match` rewritten as regorus does (see [`glob_inputs`]).
    fn rewrite(&self, s: &str) -> Option<String> {
        let delimiters = match self {
            Delimiters::None => return Some(s.replace('/', PLACE_HOLDER)),
            Delimiters::Chars(chars) => chars,
        };
        if s.contains(PLACE_HOLDER) {
            return None;
        }
        let mut s = if delimiters.contains(&'/') {
            s.to_string()
        } else {
            s.replace('/', PLACE_HOLDER)
        };
        for &d in delimiters {
            if d == ':' {
                s = s.replace(d, PLACE_HOLDER);
            } else if d != '/' {
                s = s.replace(d, &format!("/{d}/"));
            }
        }
        Some(s)
    }
}

/// A `regex.match` or `glob.match` whose pattern (and delimiters) are constants, compiled once
/// for the rule index's guards ([`crate::rule_index`]), which run it on a subject from the
/// input without a cache lookup.
#[derive(Debug)]
pub(crate) enum Prepared {
    Regex(Regex),
    Glob(GlobMatcher, Delimiters),
}

impl Prepared {
    /// For `name` called with `constants` before its subject (the last argument); `None` when
    /// the call is another, or its pattern does not compile (the builtin then reports it).
    pub(crate) fn of(name: &str, constants: &[&Value]) -> Option<Prepared> {
        match (name, constants) {
            ("regex.match", [Value::String(pattern)]) => {
                compile_regex(pattern).map(Prepared::Regex)
            }
            ("glob.match", [Value::String(pattern), delimiters]) => {
                let delimiters = Delimiters::of(delimiters)?;
                let glob = compile_glob(&delimiters.rewrite(pattern)?)?;
                Some(Prepared::Glob(glob, delimiters))
            }
            _ => None,
        }
    }

    /// The builtin's value on `subject`, exactly as [`regex_match`] or [`glob_match`] would
    /// give it; `None` when the builtin itself must be called (a subject that is not a string,
    /// or one regorus refuses).
    pub(crate) fn matches(&self, subject: &Value) -> Option<Value> {
        let Value::String(subject) = subject else {
            return None;
        };
        let matched = match self {
            Prepared::Regex(re) => re.is_match(subject),
            Prepared::Glob(glob, delimiters) => {
                glob.is_match(delimiters.rewrite(subject)?.as_str())
            }
        };
        Some(Value::Bool(matched))
    }
}

/// Runs `matches` with this thread's compiled `pattern`, compiling it first if needed. `None`
/// when the pattern does not compile.
fn with_cached<M, T>(
    cache: &'static std::thread::LocalKey<RefCell<HashMap<Box<str>, M>>>,
    pattern: &str,
    compile: impl FnOnce(&str) -> Option<M>,
    matches: impl FnOnce(&M) -> T,
) -> Option<T> {
    cache.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(m) = cache.get(pattern) {
            return Some(matches(m));
        }
        let m = compile(pattern)?;
        let matched = matches(&m);
        if cache.len() >= PER_THREAD {
            cache.clear();
        }
        cache.insert(pattern.into(), m);
        Some(matched)
    })
}
