//! Number-shaped PII: payment cards, SSNs, phone numbers, IP addresses, IBANs, dates of birth.
//!
//! These have no keyword, so they get their own cheap prefilter: skip 16-byte chunks that hold no
//! ASCII digit, then expand each digit into a *region* of digits and separators. Regions glued to
//! letters (hashes, UUIDs, identifiers) are dropped before any classification runs.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::checksum::{card_brand, iban_valid, luhn, ssn_valid};
use crate::{Detector, Finding, Severity};

const PHONE_WORDS: &[&[u8]] = &[
    b"phone",
    b"tel",
    b"mobile",
    b"cell",
    b"fax",
    b"call",
    b"whatsapp",
    b"sms",
    b"contact",
];
const SSN_WORDS: &[&[u8]] = &[b"ssn", b"social security", b"social sec"];
const DOB_WORDS: &[&[u8]] = &[b"born", b"dob", b"birth", b"geb.", b"d.o.b"];

/// A run of digits inside a region, and the separator bytes before it.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    /// Separator between the previous group and this one (empty for the first).
    sep: (usize, usize),
}

/// Index of the next ASCII digit at or after `i`.
fn next_digit(text: &[u8], mut i: usize) -> Option<usize> {
    while i + 16 <= text.len() {
        let chunk = &text[i..i + 16];
        let any = chunk
            .iter()
            .fold(0u8, |acc, &b| acc | (b.wrapping_sub(b'0') < 10) as u8);
        if any != 0 {
            return chunk.iter().position(u8::is_ascii_digit).map(|p| i + p);
        }
        i += 16;
    }
    text[i..].iter().position(u8::is_ascii_digit).map(|p| i + p)
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/')
}

/// Scan `text` for number-shaped PII.
pub fn scan(text: &[u8], out: &mut Vec<Finding>) {
    let mut i = 0;
    let mut groups = Vec::new();
    while let Some(p) = next_digit(text, i) {
        let end = region(text, p, &mut groups);
        i = end.max(p + 1);
        let s = groups[0].start;
        let before = if s > 0 { text[s - 1] } else { b' ' };
        if before.is_ascii_uppercase()
            && s >= 2
            && text[s - 2].is_ascii_uppercase()
            && iban(text, s - 2, out)
        {
            {
                i = i.max(out.last().map_or(i, |f| f.end));
                continue;
            }
        }
        // Phone extensions: 555-123-4567x890.
        let mut end = end;
        if matches!(text.get(end), Some(b'x')) && text.get(end + 1).is_some_and(u8::is_ascii_digit)
        {
            end += 1;
            while end < text.len() && text[end].is_ascii_digit() {
                end += 1;
            }
            i = end;
        }
        let after = text.get(end).copied().unwrap_or(b' ');
        if (after == b':' || before == b':') && ipv6(text, s, end, out) {
            {
                i = i.max(out.last().map_or(i, |f| f.end));
                continue;
            }
        }
        // Regions glued to letters or underscores are identifiers, hashes or UUIDs.
        let glued = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        if glued(before) || glued(after) {
            continue;
        }
        // Every shape below needs three groups (IPv4, SSN, dates) or seven digits (phones,
        // cards, bare SSNs): most numbers in prose and code are neither.
        if groups.len() < 3 && groups.iter().map(glen).sum::<usize>() < 7 {
            continue;
        }
        classify(text, &groups, out);
    }
}

/// Expand the digit at `p` into digit groups (written to `groups`) joined by short separators.
/// Returns the end of the region.
fn region(text: &[u8], p: usize, groups: &mut Vec<Group>) -> usize {
    groups.clear();
    let mut i = p;
    let mut sep_start = p;
    loop {
        let gs = i;
        while i < text.len() && text[i].is_ascii_digit() {
            i += 1;
        }
        groups.push(Group {
            start: gs,
            end: i,
            sep: (sep_start, gs),
        });
        // A separator: up to 2 bytes (e.g. ") " or " -"), then a digit.
        let mut j = i;
        while j < text.len() && j - i < 2 && is_sep(text[j]) {
            j += 1;
        }
        if j > i && j < text.len() && text[j].is_ascii_digit() && groups.len() < 64 {
            sep_start = i;
            i = j;
        } else {
            return i;
        }
    }
}

fn digits_of(text: &[u8], groups: &[Group]) -> Vec<u8> {
    groups
        .iter()
        .flat_map(|g| text[g.start..g.end].iter().copied())
        .collect()
}

fn glen(g: &Group) -> usize {
    g.end - g.start
}

/// Case-insensitive: does any of `words` (lowercase) occur in the `n` bytes before `at`?
fn context_before(text: &[u8], at: usize, n: usize, words: &[&[u8]]) -> bool {
    let hay = &text[at.saturating_sub(n)..at];
    words.iter().any(|w| {
        hay.windows(w.len())
            .any(|x| x[0].to_ascii_lowercase() == w[0] && x.eq_ignore_ascii_case(w))
    })
}

fn push(
    out: &mut Vec<Finding>,
    rule: &str,
    span: (usize, usize),
    score: f32,
    sev: Severity,
    why: String,
) {
    out.push(Finding::new(Detector::Pii, rule, span, score, sev, why));
}

fn classify(text: &[u8], groups: &[Group], out: &mut Vec<Finding>) {
    let n = groups.len();
    let sep = |k: usize| &text[groups[k].sep.0..groups[k].sep.1];
    let mut used_until = 0usize;
    // IPv4: four dot-joined groups of <= 3 digits, not part of a longer dotted run (versions).
    for k in 0..n.saturating_sub(3) {
        let win = &groups[k..k + 4];
        let dotted = (1..4).all(|x| sep(k + x) == b".");
        let longer = (k > 0 && sep(k) == b".") || (k + 4 < n && sep(k + 4) == b".");
        if dotted && !longer && win.iter().all(|g| glen(g) <= 3) {
            let span = (win[0].start, win[3].end);
            let s = std::str::from_utf8(&text[span.0..span.1]).unwrap_or("");
            if let Ok(ip) = s.parse::<Ipv4Addr>() {
                let version = context_before(text, span.0, 9, &[b"version"])
                    || (span.0 > 0 && matches!(text[span.0 - 1], b'v' | b'V'));
                if !version && !ip.is_unspecified() && !ip.is_broadcast() {
                    let private = ip.is_private() || ip.is_loopback() || ip.is_link_local();
                    let score = if private { 0.5 } else { 0.7 };
                    push(
                        out,
                        "ipv4-address",
                        span,
                        score,
                        Severity::Low,
                        format!(
                            "IPv4 address ({})",
                            if private { "private range" } else { "public" }
                        ),
                    );
                    used_until = span.1;
                }
            }
        }
    }
    // Payment cards: consecutive groups with one consistent separator, 13-19 digits, Luhn + IIN.
    for a in 0..n {
        if groups[a].start < used_until {
            continue;
        }
        let mut total = 0;
        let mut best = None;
        for b in a..n {
            if b > a {
                let s = sep(b);
                if !(s == b" " || s == b"-") || s != sep(a + 1) {
                    break;
                }
            }
            total += glen(&groups[b]);
            if total > 19 {
                break;
            }
            if total >= 13 {
                let d = digits_of(text, &groups[a..=b]);
                if let (true, Some(brand)) = (luhn(&d), card_brand(&d)) {
                    best = Some((b, brand, d.len()));
                }
            }
        }
        if let Some((b, brand, len)) = best {
            let span = (groups[a].start, groups[b].end);
            push(
                out,
                "payment-card",
                span,
                0.95,
                Severity::High,
                format!("{brand} payment card number ({len} digits, Luhn valid)"),
            );
            used_until = span.1;
        }
    }
    // SSN: 3-2-4 with '-' or ' '; or 9 bare digits right after an SSN context word.
    for k in 0..n {
        if groups[k].start < used_until {
            continue;
        }
        if k + 2 < n
            && glen(&groups[k]) == 3
            && glen(&groups[k + 1]) == 2
            && glen(&groups[k + 2]) == 4
            && (sep(k + 1) == b"-" || sep(k + 1) == b" ")
            && sep(k + 1) == sep(k + 2)
            && (k + 3 == n || sep(k + 3) != sep(k + 1))
            && (k == 0 || sep(k) != sep(k + 1))
        {
            let (a, g, s) = (&groups[k], &groups[k + 1], &groups[k + 2]);
            if ssn_valid(
                &text[a.start..a.end],
                &text[g.start..g.end],
                &text[s.start..s.end],
            ) {
                let ctx = context_before(text, a.start, 40, SSN_WORDS);
                let score = if ctx { 0.95 } else { 0.75 };
                push(
                    out,
                    "us-ssn",
                    (a.start, s.end),
                    score,
                    Severity::High,
                    "US social security number (valid area/group/serial)".into(),
                );
                used_until = s.end;
            }
        } else if glen(&groups[k]) == 9
            && n == 1
            && context_before(text, groups[k].start, 40, SSN_WORDS)
        {
            let g = &groups[k];
            let d = &text[g.start..g.end];
            if ssn_valid(&d[..3], &d[3..5], &d[5..]) {
                push(
                    out,
                    "us-ssn",
                    (g.start, g.end),
                    0.85,
                    Severity::High,
                    "9-digit number after an SSN context word".into(),
                );
                used_until = g.end;
            }
        }
    }
    if groups[0].start < used_until {
        return;
    }
    phone_or_date(text, groups, out);
}

fn phone_or_date(text: &[u8], groups: &[Group], out: &mut Vec<Finding>) {
    let n = groups.len();
    let sep = |k: usize| &text[groups[k].sep.0..groups[k].sep.1];
    let first = &groups[0];
    let start = if first.start > 0 && matches!(text[first.start - 1], b'+' | b'(') {
        first.start - 1
    } else {
        first.start
    };
    let end = groups[n - 1].end;
    let total: usize = groups.iter().map(glen).sum();
    let plus = text[start] == b'+';
    let lens: Vec<usize> = groups.iter().map(glen).collect();
    // Dates: yyyy-mm-dd, dd/mm/yyyy, dd.mm.yyyy — only PII next to a birth context word.
    let datey = n == 3
        && ((lens == [4, 2, 2])
            || (lens[0] <= 2 && lens[1] <= 2 && (lens[2] == 4 || lens[2] == 2)))
        && sep(1) == sep(2)
        && matches!(sep(1), b"-" | b"/" | b".");
    if datey {
        if context_before(text, start, 48, DOB_WORDS) {
            push(
                out,
                "date-of-birth",
                (start, end),
                0.8,
                Severity::Medium,
                "date next to a birth-date context word".into(),
            );
        }
        return;
    }
    // Every phone shape below has 7 to 15 digits.
    if !(7..=15).contains(&total) {
        return;
    }
    let phone_ctx = context_before(text, start, 32, PHONE_WORDS);
    let dot_only = (1..n).all(|k| sep(k) == b".");
    let nanp_dots = dot_only && lens == [3, 3, 4] && text[first.start] >= b'2';
    let slash = (1..n).any(|k| sep(k).contains(&b'/'));
    if slash || (dot_only && !plus && !phone_ctx && !nanp_dots) {
        return;
    }
    let nanp = {
        let l = &lens[..];
        let intl = l.len() == 4
            && (l[0] == 1
                || (l[0] == 3 && matches!(&text[groups[0].start..groups[0].end], b"001" | b"011")));
        let ok_shape = l == [3, 3, 4] || (intl && l[1..] == [3, 3, 4]) || (l == [10] && phone_ctx);
        let area = if l.len() == 4 { 1 } else { 0 };
        ok_shape
            && l.len() >= 3
            && text[groups[area].start] >= b'2'
            && text[groups[area + 1].start] >= b'2'
    };
    let (score, why) = if plus && (8..=15).contains(&total) && n >= 1 {
        (0.85, "international phone number (E.164 style)")
    } else if nanp && (total == 10 || total == 11 || total == 13) {
        (
            if phone_ctx { 0.9 } else { 0.7 },
            "North American phone number",
        )
    } else if phone_ctx && (7..=15).contains(&total) {
        (0.75, "number next to a phone context word")
    } else if text[first.start] == b'0' && n >= 2 && (10..=11).contains(&total) && lens[0] >= 2 {
        (0.5, "national-format phone number")
    } else {
        return;
    };
    push(
        out,
        "phone-number",
        (start, end),
        score,
        Severity::Medium,
        why.into(),
    );
}

/// Try an IBAN starting at `s` (two uppercase letters). Pushes a finding and returns true if valid.
fn iban(text: &[u8], s: usize, out: &mut Vec<Finding>) -> bool {
    if s > 0 && text[s - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut compact = Vec::with_capacity(34);
    let mut i = s;
    let mut end = s;
    while i < text.len() && compact.len() < 34 {
        let b = text[i];
        if b.is_ascii_uppercase() || b.is_ascii_digit() {
            compact.push(b);
            i += 1;
            end = i;
        } else if b == b' ' && i + 1 < text.len() && text[i + 1].is_ascii_alphanumeric() {
            i += 1;
        } else {
            break;
        }
        // An IBAN may end before the next space-separated word: test every prefix length.
        if compact.len() >= 15 && iban_valid(&compact) {
            let next = text.get(end).copied().unwrap_or(b' ');
            if !next.is_ascii_alphanumeric() {
                push(
                    out,
                    "iban",
                    (s, end),
                    0.95,
                    Severity::High,
                    format!(
                        "IBAN ({} country code, mod-97 valid)",
                        String::from_utf8_lossy(&compact[..2])
                    ),
                );
                return true;
            }
        }
    }
    false
}

/// Try an IPv6 address around the digit region `[s, e)`.
fn ipv6(text: &[u8], s: usize, e: usize, out: &mut Vec<Finding>) -> bool {
    let ok = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    let mut a = s;
    while a > 0 && ok(text[a - 1]) && s - a < 45 {
        a -= 1;
    }
    let mut b = e;
    while b < text.len() && ok(text[b]) && b - e < 45 {
        b += 1;
    }
    // Trim trailing ':' / '.' (sentence punctuation) and a leading single ':'.
    while b > a && matches!(text[b - 1], b'.' | b':') && !text[a..b].ends_with(b"::") {
        b -= 1;
    }
    if a > 0 && (text[a - 1].is_ascii_alphanumeric() || text[a - 1] == b'_') {
        return false;
    }
    if b < text.len() && (text[b].is_ascii_alphanumeric() || text[b] == b'_') {
        return false;
    }
    let cand = std::str::from_utf8(&text[a..b]).unwrap_or("");
    let colons = cand.bytes().filter(|&c| c == b':').count();
    if colons < 2 {
        return false;
    }
    match cand.parse::<Ipv6Addr>() {
        Ok(ip) if !ip.is_unspecified() && !ip.is_loopback() => {
            push(
                out,
                "ipv6-address",
                (a, b),
                0.7,
                Severity::Low,
                "IPv6 address".into(),
            );
            true
        }
        _ => false,
    }
}
