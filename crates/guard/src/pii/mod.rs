//! PII detector: e-mail, phone numbers, payment cards (Luhn), IBAN (mod 97), US SSN (valid
//! ranges), IPv4/IPv6, and context-scored weaker patterns (dates of birth, passports, …).

pub mod checksum;
pub mod context;
pub mod numbers;

use regex::bytes::Regex;

use crate::pattern::{PatternSet, PatternSpec};
use crate::prefilter::{windows, Hit, KeywordIndexBuilder, Target};
use crate::{Detector, Finding, Severity};

/// File extensions that look like TLDs in `name@2x.png`-style strings.
const NOT_TLDS: &[&[u8]] = &[
    b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"js", b"ts", b"css", b"py", b"rs", b"go",
    b"md", b"txt", b"json", b"yaml", b"yml", b"toml", b"lock", b"html", b"tsx", b"jsx", b"map",
];

/// The PII detector.
#[derive(Debug, Clone)]
pub struct PiiScanner {
    email: Regex,
    context: PatternSet,
}

impl Default for PiiScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl PiiScanner {
    /// Compile the PII patterns.
    pub fn new() -> Self {
        let email = Regex::new(
            r"(?-u:\b)[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?-u:\b)",
        )
        .expect("email regex");
        PiiScanner {
            email,
            context: PatternSet::compile(context::RULES),
        }
    }

    /// Register `@` and the context words with the prefilter.
    pub fn register(&self, b: &mut KeywordIndexBuilder) {
        b.add(b"@", Target::Email);
        self.context.register(b, Target::PiiContext);
    }

    /// Scan for PII; `hits` holds the `Email` and `PiiContext` hits, sorted.
    pub fn scan(&self, text: &[u8], hits: &[Hit], out: &mut Vec<Finding>) {
        let email_hits: Vec<Hit> = hits
            .iter()
            .filter(|h| h.target == Target::Email)
            .copied()
            .collect();
        for (ws, we) in windows(&email_hits, 65, 256, text.len()) {
            self.emails(text, ws, we, out);
        }
        self.context.scan(
            text,
            hits,
            |t| match t {
                Target::PiiContext(i) => Some(i),
                _ => None,
            },
            Detector::Pii,
            require_digit,
            out,
        );
        numbers::scan(text, out);
    }

    fn emails(&self, text: &[u8], ws: usize, we: usize, out: &mut Vec<Finding>) {
        let hay = &text[..we];
        let mut pos = ws;
        while let Some(m) = self.email.find_at(hay, pos) {
            pos = m.end();
            let v = m.as_bytes();
            let tld = &v[v.iter().rposition(|&b| b == b'.').map_or(0, |p| p + 1)..];
            let tld = tld.to_ascii_lowercase();
            if NOT_TLDS.contains(&tld.as_slice()) {
                continue;
            }
            // user@host.tld inside a URL's authority is a credential-less login, still an e-mail;
            // but `git@github.com:` SSH remotes are not personal data.
            if v.starts_with(b"git@") {
                continue;
            }
            out.push(Finding::new(
                Detector::Pii,
                "email-address",
                (m.start(), m.end()),
                0.9,
                Severity::Medium,
                "e-mail address",
            ));
        }
    }
}

fn require_digit(spec: &PatternSpec, text: &[u8], m: std::ops::Range<usize>) -> Option<f32> {
    let v = &text[m];
    let digits = v.iter().filter(|b| b.is_ascii_digit()).count();
    (digits >= 4).then_some(spec.score)
}
