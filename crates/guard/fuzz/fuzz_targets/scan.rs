//! Fuzz `Guard::scan`, `redact`, `validate_command` and `validate_path` with arbitrary text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sentinel_guard::{Direction, Guard, RedactMode, ScanOptions};

fuzz_target!(|data: &[u8]| {
    static GUARD: OnceLock<Guard> = OnceLock::new();
    let guard = GUARD.get_or_init(Guard::builtin);
    let text = String::from_utf8_lossy(data);
    let dir = if data.first().is_some_and(|b| b & 1 == 1) { Direction::Output } else { Direction::Input };
    let report = guard.scan(&text, &ScanOptions::new(dir));
    for f in &report.findings {
        assert!(f.start <= f.end && f.end <= text.len());
        assert!((0.0..=1.0).contains(&f.score));
    }
    for mode in [RedactMode::Mask, RedactMode::Partial, RedactMode::Hash] {
        let _ = guard.redact(&text, &report.findings, mode, b"fuzz");
    }
    let _ = guard.validate_command(&text);
    let _ = guard.validate_path(&text);
});
