//! Deterministic random-input test: the same properties as the fuzz targets, without nightly.
//! Inputs mix rule keywords, digits, separators, hidden characters and random bytes.

use sentinel_guard::{Direction, Guard, RedactMode, ScanOptions};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "ghp_",
    "AKIA",
    "sk-",
    "xoxb-",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END",
    "password=",
    "secret: ",
    "@",
    ".",
    "-",
    " ",
    "\n",
    "(",
    ")",
    "+",
    "/",
    "%2e%2e%2f",
    "%",
    "=",
    "eyJ",
    "ignore",
    "previous instructions",
    "<|im_start|>",
    "![a](https://x.io/?q=",
    "rm -rf /",
    "| sh",
    "curl ",
    "DROP TABLE",
    "DELETE FROM t",
    "\u{200b}",
    "\u{E0041}",
    "\u{202e}",
    "\u{1F468}\u{200D}",
    "é",
    "0",
    "1",
    "4111",
    "123-45-6789",
    "DE89",
    "::",
    "2001:db8",
    "aWdub3Jl",
    "0x",
    "\\",
    "\"",
    "'",
    "postgres://u:p@h",
    "../",
    "/etc/shadow",
    "~/.ssh/id_rsa",
    "system:",
    "### System",
];

fn random_text(rng: &mut XorShift) -> String {
    let n = (rng.next() % 60) as usize;
    let mut s = String::new();
    for _ in 0..n {
        if rng.next().is_multiple_of(4) {
            let len = (rng.next() % 40) as usize;
            for _ in 0..len {
                let c = char::from_u32((rng.next() % 0x800) as u32).unwrap_or('x');
                s.push(c);
            }
        } else {
            s.push_str(rng.pick(PIECES));
        }
    }
    s
}

#[test]
fn random_inputs_hold_invariants() {
    let guard = Guard::builtin();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let iterations: usize = std::env::var("GUARD_RANDOM_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for i in 0..iterations {
        let text = random_text(&mut rng);
        let dir = if i % 2 == 0 {
            Direction::Input
        } else {
            Direction::Output
        };
        let report = guard.scan(&text, &ScanOptions::new(dir));
        for f in &report.findings {
            assert!(f.start <= f.end && f.end <= text.len(), "{f:?} in {text:?}");
            assert!((0.0..=1.0).contains(&f.score));
        }
        for mode in [RedactMode::Mask, RedactMode::Partial, RedactMode::Hash] {
            let _ = guard.redact(&text, &report.findings, mode, b"k");
        }
        let _ = guard.validate_command(&text);
        let _ = guard.validate_path(&text);
        let json = serde_json::json!({"a": text, "b": [text.clone(), {"c": text}]});
        let jr = guard.scan_json(&json, &ScanOptions::default());
        let _ = guard.redact_json(&json, &jr.findings, RedactMode::Mask, b"k");
    }
}

#[test]
fn adversarial_inputs_stay_linear() {
    let guard = Guard::builtin();
    // Keyword storms and long runs that would be quadratic if windows were not merged.
    let cases = [
        "password=".repeat(20_000),
        "ghp_".repeat(40_000),
        "1-".repeat(80_000),
        "a".repeat(300_000),
        "@a.".repeat(50_000),
        "ignore previous ".repeat(10_000),
        "\u{200b}".repeat(50_000),
        "QUFB".repeat(60_000),
    ];
    for text in &cases {
        let t = std::time::Instant::now();
        let r = guard.scan(text, &ScanOptions::default());
        assert!(
            t.elapsed().as_secs_f64() < 5.0,
            "slow on {:?}…",
            &text[..20]
        );
        assert!(!r.truncated);
    }
}
