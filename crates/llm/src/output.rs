//! Scanning a model's answer as it streams: a small window of text is held back so that a
//! secret split across chunks is caught whole, and nothing else of the answer is buffered.
//!
//! Each chunk's text is appended to the window and the window is scanned; what is found is
//! masked (or ends the answer), and all but the last `hold` characters are released. A secret
//! up to `hold` characters long is therefore always complete inside the window before any of
//! it is released.

use std::sync::Arc;

use sentinel_guard::{Detector, Direction, Guard, RedactMode, ScanOptions};

/// A finding that ends the answer (with [`crate::config::OutputAction::Stop`]).
#[derive(Debug, Clone)]
pub struct Stopped {
    pub rule: String,
}

pub struct OutputFilter {
    guard: Arc<Guard>,
    opts: ScanOptions,
    window: String,
    hold: usize,
    stop: bool,
    /// Rules of what was redacted so far.
    pub redacted: Vec<String>,
}

impl OutputFilter {
    pub fn new(guard: Arc<Guard>, hold: usize, stop: bool) -> OutputFilter {
        OutputFilter {
            guard,
            opts: ScanOptions::new(Direction::Output).with_detectors(vec![Detector::Secrets]),
            window: String::new(),
            hold,
            stop,
            redacted: Vec::new(),
        }
    }

    /// Adds text and returns what can be released.
    pub fn push(&mut self, text: &str) -> Result<String, Stopped> {
        self.window.push_str(text);
        self.scan()?;
        let chars = self.window.chars().count();
        if chars <= self.hold {
            return Ok(String::new());
        }
        let cut = self
            .window
            .char_indices()
            .nth(chars - self.hold)
            .map(|(i, _)| i)
            .unwrap_or(self.window.len());
        let rest = self.window.split_off(cut);
        Ok(std::mem::replace(&mut self.window, rest))
    }

    /// The end of the answer: releases what is held.
    pub fn finish(&mut self) -> Result<String, Stopped> {
        self.scan()?;
        Ok(std::mem::take(&mut self.window))
    }

    /// Scans a whole answer at once (non-streaming responses).
    pub fn whole(&mut self, text: &str) -> Result<String, Stopped> {
        self.window = text.to_string();
        self.finish()
    }

    fn scan(&mut self) -> Result<(), Stopped> {
        if self.window.is_empty() {
            return Ok(());
        }
        let report = self.guard.scan(&self.window, &self.opts);
        if report.findings.is_empty() {
            return Ok(());
        }
        if self.stop {
            return Err(Stopped {
                rule: report.findings[0].rule.clone(),
            });
        }
        self.redacted
            .extend(report.findings.iter().map(|f| f.rule.clone()));
        self.window = self
            .guard
            .redact(&self.window, &report.findings, RedactMode::Mask, &[]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d";

    #[test]
    fn a_secret_split_across_chunks_never_leaves() {
        let guard = Arc::new(Guard::builtin());
        let text = format!("Sure, the token is {TOKEN} and it never expires. Bye now.");
        for size in [1, 3, 7, 16, 64] {
            let mut f = OutputFilter::new(guard.clone(), 64, false);
            let mut out = String::new();
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(size) {
                out.push_str(&f.push(&piece.iter().collect::<String>()).unwrap());
            }
            out.push_str(&f.finish().unwrap());
            assert!(!out.contains("ghp_u8jz"), "size {size}: {out}");
            assert!(out.contains("[REDACTED:"), "size {size}: {out}");
            assert!(out.starts_with("Sure, the token is ") && out.ends_with("Bye now."));
        }
    }

    #[test]
    fn stop_mode_ends_the_answer() {
        let mut f = OutputFilter::new(Arc::new(Guard::builtin()), 64, true);
        let first = f.push("The token: ").unwrap();
        assert!(first.is_empty(), "short text is held");
        assert!(f.push(TOKEN).is_err());
    }

    #[test]
    fn benign_text_passes_unchanged() {
        let mut f = OutputFilter::new(Arc::new(Guard::builtin()), 8, false);
        let mut out = f.push("Hello there, ").unwrap();
        out.push_str(&f.push("general Kenobi.").unwrap());
        out.push_str(&f.finish().unwrap());
        assert_eq!(out, "Hello there, general Kenobi.");
    }
}
