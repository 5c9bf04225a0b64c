//! Weaker PII patterns that only count next to a context word (passport, licence, date of birth…).

use crate::pattern::PatternSpec;
use crate::Severity;

/// Context-scored PII rules.
pub static RULES: &[PatternSpec] = &[
    PatternSpec {
        id: "passport-number",
        keywords: &["passport"],
        regex: r"(?i)passport(?:\s*(?:no\.?|number|num|#|id))?\s*(?:is\s*)?[:#]?\s*([A-Z]{0,2}[0-9]{6,9}|[A-Z0-9]{8,9})(?-u:\b)",
        group: 1,
        score: 0.75,
        severity: Severity::High,
        explanation: "passport-number-shaped value after the word 'passport'",
        before: 0,
        after: 64,
    },
    PatternSpec {
        id: "drivers-license",
        keywords: &["driver"],
        regex: r"(?i)driver'?s?\s+licen[cs]e(?:\s*(?:no\.?|number|#))?\s*(?:is\s*)?[:#]?\s*([A-Z0-9][A-Z0-9\-]{4,15})(?-u:\b)",
        group: 1,
        score: 0.7,
        severity: Severity::High,
        explanation: "licence-number-shaped value after 'driver's license'",
        before: 0,
        after: 80,
    },
    PatternSpec {
        id: "uk-national-insurance-number",
        keywords: &["national insurance", "nino", "ni number", "ni no"],
        regex: r"(?i)(?:national\s+insurance|nino|ni\s+n(?:umber|o\.?))[^A-Za-z0-9]{0,24}(?:number|no\.?)?[^A-Za-z0-9]{0,4}([A-CEGHJ-PR-TW-Z]{2}\s?[0-9]{2}\s?[0-9]{2}\s?[0-9]{2}\s?[A-D])(?-u:\b)",
        group: 1,
        score: 0.85,
        severity: Severity::High,
        explanation: "UK National Insurance number after its context word",
        before: 0,
        after: 80,
    },
    PatternSpec {
        id: "date-of-birth",
        keywords: &["born", "birth", "dob", "d.o.b"],
        regex: r"(?i)(?:born(?:\s+on)?|date\s+of\s+birth|birth\s*date|birthday|dob|d\.o\.b\.?)\s*(?:is\s*)?[:\-]?\s*((?:[0-9]{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:[0-9]{1,2}(?:st|nd|rd|th)?,?\s+)?[0-9]{4})",
        group: 1,
        score: 0.8,
        severity: Severity::Medium,
        explanation: "written-out date next to a birth-date context word",
        before: 0,
        after: 80,
    },
    PatternSpec {
        id: "bank-account-number",
        keywords: &[
            "account number",
            "account no",
            "account #",
            "acct",
            "routing",
        ],
        regex: r"(?i)(?:account\s*(?:number|no\.?|#)|acct\.?\s*(?:number|no\.?|#)?|routing\s*(?:number|no\.?|#)?)\s*(?:is\s*)?[:#]?\s*([0-9]{6,17})(?-u:\b)",
        group: 1,
        score: 0.65,
        severity: Severity::High,
        explanation: "account or routing number after its context word",
        before: 0,
        after: 64,
    },
];
