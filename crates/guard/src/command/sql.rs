//! Destructive SQL: DROP, TRUNCATE, and DELETE/UPDATE without a WHERE clause.

use crate::pattern::PatternSpec;
use crate::Severity;

/// SQL rules. `DELETE`/`UPDATE` matches are confirmed by [`no_where`].
pub static RULES: &[PatternSpec] = &[
    PatternSpec {
        id: "sql-drop",
        keywords: &["drop"],
        regex: r"(?i)(?-u:\b)drop\s+(?:table|database|schema|view|index|user|role|function|procedure|trigger|tablespace)\s+(?:if\s+exists\s+)?[A-Za-z0-9_.`\x22\[\]]+(?:\s+cascade)?",
        group: 0,
        score: 0.9,
        severity: Severity::Critical,
        explanation: "drops a database object",
        before: 0,
        after: 256,
    },
    PatternSpec {
        id: "sql-truncate",
        keywords: &["truncate"],
        regex: r"(?i)(?-u:\b)truncate\s+(?:table\s+)?(?:only\s+)?[A-Za-z_`\x22\[][A-Za-z0-9_.`\x22\[\]]*\s*(?:;|$|,|\s+(?:cascade|restart|continue)|\))",
        group: 0,
        score: 0.85,
        severity: Severity::Critical,
        explanation: "truncates a table (deletes every row)",
        before: 0,
        after: 256,
    },
    PatternSpec {
        id: "sql-delete-without-where",
        keywords: &["delete"],
        regex: r"(?i)(?-u:\b)delete\s+from\s+[A-Za-z_`\x22\[][A-Za-z0-9_.`\x22\[\]]*(?:\s+(?:as\s+)?[A-Za-z_][A-Za-z0-9_]*)?[^;]{0,400}",
        group: 0,
        score: 0.85,
        severity: Severity::High,
        explanation: "DELETE without a WHERE clause removes every row",
        before: 0,
        after: 512,
    },
    PatternSpec {
        id: "sql-update-without-where",
        keywords: &["update"],
        regex: r"(?i)(?-u:\b)update\s+[A-Za-z_`\x22\[][A-Za-z0-9_.`\x22\[\]]*\s+set\s+[^;]{1,400}",
        group: 0,
        score: 0.75,
        severity: Severity::High,
        explanation: "UPDATE without a WHERE clause changes every row",
        before: 0,
        after: 512,
    },
    PatternSpec {
        id: "sql-privilege-grant",
        keywords: &["grant"],
        regex: r"(?i)(?-u:\b)grant\s+all(?:\s+privileges)?\s+on\s+(?:\*\.\*|all\s+tables|database)",
        group: 0,
        score: 0.7,
        severity: Severity::High,
        explanation: "grants all privileges broadly",
        before: 0,
        after: 256,
    },
];

/// For DELETE/UPDATE: reject when the statement has a WHERE (or is clearly prose).
pub fn no_where(spec: &PatternSpec, text: &[u8], m: std::ops::Range<usize>) -> Option<f32> {
    if !matches!(
        spec.id,
        "sql-delete-without-where" | "sql-update-without-where"
    ) {
        return Some(spec.score);
    }
    let stmt = &text[m];
    // The statement ends at ';' (excluded by the regex) or at a blank line / closing quote.
    let end = stmt
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(stmt.len());
    let stmt = stmt[..end].to_ascii_lowercase();
    let has = |w: &[u8]| stmt.windows(w.len()).any(|x| x == w);
    if has(b"where") || has(b" limit ") || has(b"returning") && has(b"where") {
        return None;
    }
    // Prose like "delete from the list" lacks SQL shape: require the statement to be short or
    // end the line, and (for UPDATE) an assignment.
    if spec.id == "sql-update-without-where" && !stmt.contains(&b'=') {
        return None;
    }
    let after_kw = stmt
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .nth(if spec.id == "sql-delete-without-where" {
            2
        } else {
            1
        })
        .unwrap_or(b"");
    const ARTICLES: &[&[u8]] = &[
        b"the", b"a", b"an", b"my", b"your", b"this", b"that", b"all", b"our", b"their", b"its",
    ];
    if ARTICLES.contains(&after_kw) {
        return None;
    }
    let words = stmt
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .count();
    if spec.id == "sql-delete-without-where" && words > 8 {
        return None;
    }
    Some(spec.score)
}
