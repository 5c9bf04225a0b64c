//! Redaction: replace flagged spans by a mask, a partial view, or a keyed hash.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::Finding;

/// How a flagged span is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RedactMode {
    /// `[REDACTED:rule]`.
    #[default]
    Mask,
    /// Keep a few leading and trailing characters, star the middle.
    Partial,
    /// `[HMAC:<first 16 hex of HMAC-SHA256(key, value)>]`: equal values give equal tokens, so
    /// logs stay joinable without revealing the value.
    Hash,
}

/// Widen `[s, e)` to char boundaries of `text`, clamped to its length.
fn to_boundaries(text: &str, s: usize, e: usize) -> (usize, usize) {
    let mut s = s.min(text.len());
    let mut e = e.min(text.len());
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    while !text.is_char_boundary(e) {
        e += 1;
    }
    (s, e)
}

/// The replacement for one value.
pub fn replacement(value: &str, rule: &str, mode: RedactMode, key: &[u8]) -> String {
    match mode {
        RedactMode::Mask => format!("[REDACTED:{rule}]"),
        RedactMode::Partial => {
            let chars: Vec<char> = value.chars().collect();
            let n = chars.len();
            let keep = match n {
                0..=7 => 0,
                8..=15 => 2,
                _ => 4,
            };
            let mut s: String = chars[..keep].iter().collect();
            s.extend(std::iter::repeat_n('*', (n - 2 * keep).min(16)));
            s.extend(&chars[n - keep..]);
            s
        }
        RedactMode::Hash => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
            mac.update(value.as_bytes());
            let tag = mac.finalize().into_bytes();
            let hex: String = tag[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("[HMAC:{hex}]")
        }
    }
}

/// Redact `findings` (spans into `text`) from `text`. Overlapping spans are merged; the first
/// finding's rule names the merged span.
pub fn redact_text<'a>(
    text: &str,
    findings: impl IntoIterator<Item = &'a Finding>,
    mode: RedactMode,
    key: &[u8],
) -> String {
    let mut spans: Vec<(usize, usize, &str)> = findings
        .into_iter()
        .filter(|f| f.start < f.end && f.start < text.len())
        .map(|f| {
            let (s, e) = to_boundaries(text, f.start, f.end);
            (s, e, f.rule.as_str())
        })
        .collect();
    spans.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
    let mut merged: Vec<(usize, usize, &str)> = Vec::with_capacity(spans.len());
    for sp in spans {
        match merged.last_mut() {
            Some(last) if sp.0 < last.1 => last.1 = last.1.max(sp.1),
            _ => merged.push(sp),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e, rule) in merged {
        out.push_str(&text[pos..s]);
        out.push_str(&replacement(&text[s..e], rule, mode, key));
        pos = e;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Detector, Severity};

    fn f(s: usize, e: usize, rule: &str) -> Finding {
        Finding::new(Detector::Secrets, rule, (s, e), 1.0, Severity::High, "x")
    }

    #[test]
    fn modes() {
        let t = "key=abcdefghijklmnopqrst end";
        let fs = [f(4, 24, "k")];
        assert_eq!(
            redact_text(t, &fs, RedactMode::Mask, b""),
            "key=[REDACTED:k] end"
        );
        assert_eq!(
            redact_text(t, &fs, RedactMode::Partial, b""),
            "key=abcd************qrst end"
        );
        let h1 = redact_text(t, &fs, RedactMode::Hash, b"k1");
        let h2 = redact_text(t, &fs, RedactMode::Hash, b"k2");
        assert!(h1.starts_with("key=[HMAC:") && h1.ends_with("] end"));
        assert_eq!(h1.len(), "key=[HMAC:] end".len() + 16);
        assert_ne!(h1, h2);
        assert_eq!(h1, redact_text(t, &fs, RedactMode::Hash, b"k1"));
    }

    #[test]
    fn merges_overlaps_and_respects_char_boundaries() {
        let t = "héllo wörld";
        let fs = [f(0, 3, "a"), f(2, 8, "b")];
        let r = redact_text(t, &fs, RedactMode::Mask, b"");
        assert!(r.starts_with("[REDACTED:a]"));
        assert!(r.is_char_boundary(r.len()));
    }
}
