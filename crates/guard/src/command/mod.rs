//! Dangerous commands and code: destructive shell, destructive SQL, and path checks.
//!
//! In `scan`, rules run on windows around their keywords like every other detector. In
//! `validate_command` the whole input is the command, so every rule runs over all of it.

pub mod path;
pub mod shell;
pub mod sql;

use crate::pattern::{PatternSet, PatternSpec};
use crate::prefilter::{Hit, KeywordIndexBuilder, Target};
use crate::{Detector, Finding};

/// The command detector.
#[derive(Debug, Clone)]
pub struct CommandScanner {
    shell: PatternSet,
    sql: PatternSet,
}

impl Default for CommandScanner {
    fn default() -> Self {
        Self::new()
    }
}

/// Offset separating SQL rule indexes from shell rule indexes in prefilter targets.
const SQL_BASE: u32 = 1 << 16;

impl CommandScanner {
    /// Compile the shell and SQL rules.
    pub fn new() -> Self {
        CommandScanner {
            shell: PatternSet::compile(shell::RULES),
            sql: PatternSet::compile(sql::RULES),
        }
    }

    /// Register keywords with the prefilter.
    pub fn register(&self, b: &mut KeywordIndexBuilder) {
        self.shell.register(b, Target::Command);
        self.sql.register(b, |i| Target::Command(SQL_BASE + i));
    }

    /// Confirm rules woken by `hits` (the `Command` hits, sorted).
    pub fn scan(&self, text: &[u8], hits: &[Hit], out: &mut Vec<Finding>) {
        self.shell.scan(
            text,
            hits,
            |t| match t {
                Target::Command(i) if i < SQL_BASE => Some(i),
                _ => None,
            },
            Detector::Command,
            accept_outside_quotes,
            out,
        );
        self.sql.scan(
            text,
            hits,
            |t| match t {
                Target::Command(i) if i >= SQL_BASE => Some(i - SQL_BASE),
                _ => None,
            },
            Detector::Command,
            sql::no_where,
            out,
        );
    }

    /// Run every rule over the whole command.
    pub fn validate(&self, cmd: &[u8], out: &mut Vec<Finding>) {
        self.shell
            .scan_all(cmd, Detector::Command, accept_outside_quotes, out);
        self.sql
            .scan_all(cmd, Detector::Command, sql::no_where, out);
    }
}

/// `echo "rm -rf /"` prints rather than runs: lower the score when the match sits inside an
/// `echo`/`printf` argument on the same line.
fn accept_outside_quotes(
    spec: &PatternSpec,
    text: &[u8],
    m: std::ops::Range<usize>,
) -> Option<f32> {
    let line_start = text[..m.start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let prefix = text[line_start..m.start].to_ascii_lowercase();
    let quoted = prefix.iter().filter(|&&b| b == b'"' || b == b'\'').count() % 2 == 1;
    let echoed = prefix.windows(5).any(|w| w == b"echo " || w == b"print");
    Some(if quoted && echoed {
        spec.score * 0.5
    } else {
        spec.score
    })
}
