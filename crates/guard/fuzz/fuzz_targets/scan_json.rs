//! Fuzz `Guard::scan_json` and `redact_json` with any input that parses as JSON.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sentinel_guard::{Guard, RedactMode, ScanOptions};

fuzz_target!(|data: &[u8]| {
    static GUARD: OnceLock<Guard> = OnceLock::new();
    let guard = GUARD.get_or_init(Guard::builtin);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let report = guard.scan_json(&value, &ScanOptions::default());
    for f in &report.findings {
        assert!(f.path.is_some());
        assert!(f.start <= f.end);
    }
    let _ = guard.redact_json(&value, &report.findings, RedactMode::Hash, b"fuzz");
});
