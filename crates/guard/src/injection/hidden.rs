//! Hidden text: zero-width characters, Unicode tag characters (U+E0000–E007F), variation-selector
//! smuggling and bidi controls. Tag characters are decoded back to ASCII so the hidden message
//! can be rescanned.

use crate::prefilter::{KeywordIndexBuilder, Target};
use crate::{Detector, Finding, Severity};

/// UTF-8 prefixes of the characters we look for. All are registered with the prefilter.
const PREFIXES: &[&[u8]] = &[
    "\u{200B}".as_bytes(), // zero width space
    "\u{200C}".as_bytes(), // zero width non-joiner
    "\u{200D}".as_bytes(), // zero width joiner
    "\u{2060}".as_bytes(), // word joiner
    "\u{2061}".as_bytes(),
    "\u{2062}".as_bytes(),
    "\u{2063}".as_bytes(),
    "\u{2064}".as_bytes(),
    "\u{FEFF}".as_bytes(), // BOM / zero width no-break space
    "\u{180E}".as_bytes(), // mongolian vowel separator
    "\u{202A}".as_bytes(), // bidi embeddings / overrides
    "\u{202B}".as_bytes(),
    "\u{202C}".as_bytes(),
    "\u{202D}".as_bytes(),
    "\u{202E}".as_bytes(),
    "\u{2066}".as_bytes(), // bidi isolates
    "\u{2067}".as_bytes(),
    "\u{2068}".as_bytes(),
    "\u{2069}".as_bytes(),
    b"\xF3\xA0\x80", // tags U+E0000..E003F
    b"\xF3\xA0\x81", // tags U+E0040..E007F
    b"\xF3\xA0\x84", // variation selectors supplement U+E0100..
    b"\xF3\xA0\x85",
    b"\xF3\xA0\x86",
    b"\xF3\xA0\x87",
];

/// Register the hidden-character prefixes with the prefilter.
pub fn register(b: &mut KeywordIndexBuilder) {
    for p in PREFIXES {
        b.add(p, Target::Hidden);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ZeroWidth,
    Joiner,
    Bidi,
    Tag,
    Selector,
}

fn classify(c: char) -> Option<Kind> {
    match c {
        '\u{200D}' => Some(Kind::Joiner),
        '\u{200B}' | '\u{200C}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' => {
            Some(Kind::ZeroWidth)
        }
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some(Kind::Bidi),
        '\u{E0000}'..='\u{E007F}' => Some(Kind::Tag),
        '\u{E0100}'..='\u{E01EF}' => Some(Kind::Selector),
        _ => None,
    }
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF)
}

/// A cluster of hidden characters and, for tag characters, the ASCII they spell.
pub struct HiddenCluster {
    pub start: usize,
    pub end: usize,
    pub decoded: String,
}

/// Find clusters of hidden characters starting at the prefilter hit positions `hits` (sorted).
/// Pushes findings and returns the clusters whose tag characters decode to text.
pub fn scan(text: &str, hits: &[usize], out: &mut Vec<Finding>) -> Vec<HiddenCluster> {
    let mut decoded_clusters = Vec::new();
    let mut next_free = 0;
    for &h in hits {
        if h < next_free || !text.is_char_boundary(h) {
            continue;
        }
        // Walk forward over hidden chars, allowing up to 8 visible bytes between them.
        let (mut counts, mut end, mut gap) = ([0usize; 5], h, 0usize);
        let mut decoded = String::new();
        let prev = text[..h].chars().next_back();
        let mut last_kind = None;
        for (off, c) in text[h..].char_indices() {
            match classify(c) {
                Some(k) => {
                    // ZWJ between emoji, and tag sequences after the black flag, are legitimate.
                    if k == Kind::Joiner {
                        let before = text[..h + off].chars().next_back();
                        let after = text[h + off + c.len_utf8()..].chars().next();
                        if before.is_some_and(is_emoji) || after.is_some_and(is_emoji) {
                            gap += c.len_utf8();
                            continue;
                        }
                    }
                    if k == Kind::Tag && prev == Some('\u{1F3F4}') {
                        gap += c.len_utf8();
                        continue;
                    }
                    if k == Kind::Tag {
                        let a = (c as u32 - 0xE0000) as u8;
                        if (0x20..0x7F).contains(&a) {
                            decoded.push(a as char);
                        }
                    }
                    counts[k as usize] += 1;
                    end = h + off + c.len_utf8();
                    gap = 0;
                    last_kind = Some(k);
                }
                None => {
                    gap += c.len_utf8();
                    if gap > 8 {
                        break;
                    }
                }
            }
        }
        next_free = end.max(h + 1);
        let Some(_) = last_kind else { continue };
        let [zw, joiner, bidi, tag, sel] = counts;
        let zero = zw + joiner;
        let (rule, score, sev, why) = if tag > 0 {
            (
                "unicode-tag-characters",
                0.9,
                Severity::High,
                format!("{tag} invisible Unicode tag characters (can smuggle hidden instructions)"),
            )
        } else if sel >= 4 {
            (
                "variation-selector-smuggling",
                0.8,
                Severity::High,
                format!("{sel} variation-selector characters in a row (can encode hidden bytes)"),
            )
        } else if bidi > 0 {
            (
                "bidi-control",
                if bidi >= 2 { 0.65 } else { 0.5 },
                Severity::Medium,
                format!("{bidi} bidirectional-override characters (can reorder visible text)"),
            )
        } else if zero > 0 {
            let s = if zero >= 4 { 0.7 } else { 0.4 };
            (
                "zero-width-characters",
                s,
                Severity::Medium,
                format!("{zero} zero-width characters (invisible text or watermark)"),
            )
        } else {
            continue;
        };
        out.push(Finding::new(
            Detector::Injection,
            rule,
            (h, end),
            score,
            sev,
            why,
        ));
        if decoded.len() >= 4 {
            decoded_clusters.push(HiddenCluster {
                start: h,
                end,
                decoded,
            });
        }
    }
    decoded_clusters
}
