//! Canonical bytes and digests.
//!
//! Audit entries are hashed and signed as RFC 8785 (JSON Canonicalization Scheme)
//! bytes, so that any JCS implementation — in any language — reproduces the exact
//! bytes an auditor must hash. Canonicalisation is delegated to the
//! `serde_json_canonicalizer` crate (ECMAScript number formatting via `ryu-js`,
//! UTF-16 key ordering); the tests below pin it to the RFC's own examples. Values
//! whose compact serde_json text is already canonical (no floats, no integer beyond
//! 2^53, no key with a character from U+E000 up: nearly every entry) skip it, and a
//! property test holds the two paths to the same bytes.

use sha2::{Digest, Sha256};

/// RFC 8785 canonical form of `v`.
///
/// Numbers are emitted as IEEE-754 doubles in ECMAScript form (so integers above
/// 2^53 lose precision, exactly as the RFC requires); keys are sorted by UTF-16
/// code units; no insignificant whitespace.
pub fn canonical_json(v: &serde_json::Value) -> Vec<u8> {
    if serialises_canonically(v) {
        return serde_json::to_vec(v).expect("a serde_json::Value always serialises");
    }
    // A `serde_json::Value` cannot hold NaN/Infinity or duplicate keys, which are
    // the only inputs the canonicaliser rejects.
    serde_json_canonicalizer::to_vec(v).expect("a serde_json::Value is always canonicalisable")
}

/// Whether serde_json's compact output of `v` is already its RFC 8785 form, as it is for
/// nearly every audit entry: serde_json escapes strings exactly as the RFC does, and writes
/// an object's keys in code point order (its maps are sorted, `preserve_order` is off),
/// which is UTF-16 order unless a key holds a character from U+E000 up (a lead byte from
/// 0xEE); and it writes an integer as the RFC does while the integer is exact as a double.
/// Anything else (a float, a larger integer, such a key) goes to the canonicaliser, which
/// costs about ten times as much (`audit-bench`: 11.5 µs against 1.15 µs for a decision entry).
fn serialises_canonically(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    const EXACT: u64 = 1 << 53;
    match v {
        Value::Null | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => n
            .as_u64()
            .map(|u| u <= EXACT)
            .or_else(|| n.as_i64().map(|i| i.unsigned_abs() <= EXACT))
            .unwrap_or(false),
        Value::Array(items) => items.iter().all(serialises_canonically),
        Value::Object(map) => map
            .iter()
            .all(|(k, v)| k.bytes().all(|b| b < 0xEE) && serialises_canonically(v)),
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: impl AsRef<[u8]>) -> [u8; 32] {
    Sha256::digest(bytes.as_ref()).into()
}

/// `"sha256:<lowercase hex>"`, the digest spelling used in entries and decisions.
pub fn sha256_label(bytes: impl AsRef<[u8]>) -> String {
    format!("sha256:{}", hex::encode(sha256(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(text: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        String::from_utf8(canonical_json(&v)).unwrap()
    }

    #[test]
    fn rfc8785_section_3_2_2_example() {
        // RFC 8785 §3.2.2 input and expected output (§3.2.3).
        let input = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let expected = r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
        assert_eq!(canon(input), expected);
    }

    #[test]
    fn rfc8785_section_3_2_3_sorting_by_utf16() {
        // RFC 8785 §3.2.3 sorting example: keys ordered by UTF-16 code units, so
        // the emoji (a surrogate pair, 0xD83D…) sorts before U+FB33.
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(input), want);
    }

    #[test]
    fn rfc8785_appendix_b_numbers() {
        // A selection of RFC 8785 Appendix B (IEEE-754 hex → expected JSON text).
        let cases: [(u64, &str); 8] = [
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        ];
        for (bits, expected) in cases {
            let v = json!(f64::from_bits(bits));
            assert_eq!(
                String::from_utf8(canonical_json(&v)).unwrap(),
                expected,
                "{bits:#x}"
            );
        }
    }

    #[test]
    fn integers_are_doubles() {
        assert_eq!(canon("[1, -0, 100, 1.0]"), "[1,0,100,1]");
    }

    #[test]
    fn sha256_of_abc() {
        // FIPS 180-2 example.
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
