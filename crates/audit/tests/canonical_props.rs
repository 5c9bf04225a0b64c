//! Property test: `canonical_json` gives the RFC 8785 bytes the canonicaliser crate gives, for
//! any JSON value — whether it takes its fast path (serde_json's own compact text) or not.
//! Strings and keys mix ASCII, escapes, control characters and the ranges where UTF-16 order
//! differs from code point order; numbers mix small and large integers and floats.

use proptest::prelude::*;
use sentinel_audit::canonical::canonical_json;
use serde_json::Value;

fn text() -> impl Strategy<Value = String> {
    let char = prop_oneof![
        4 => proptest::char::range('a', 'e'),
        1 => proptest::char::range('\u{0}', '\u{1f}'),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('\u{7f}'),
        1 => proptest::char::range('\u{e000}', '\u{e002}'),
        1 => proptest::char::range('\u{fb33}', '\u{fb34}'),
        1 => proptest::char::range('\u{1f600}', '\u{1f601}'),
        1 => proptest::char::range('\u{e9}', '\u{ea}'),
    ];
    proptest::collection::vec(char, 0..6).prop_map(|c| c.into_iter().collect())
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-1000i64..1000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ((1u64 << 53) - 2..(1u64 << 53) + 3).prop_map(Value::from),
        (-(1i64 << 53) - 2..-(1i64 << 53) + 3).prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinities", |f| f.is_finite())
            .prop_map(Value::from),
        (-5i32..5).prop_map(|i| Value::from(f64::from(i))),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        text().prop_map(Value::String),
        number(),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn canonical_json_is_the_canonicaliser_s_output(v in json()) {
        let expected = serde_json_canonicalizer::to_vec(&v).unwrap();
        prop_assert_eq!(
            String::from_utf8(canonical_json(&v)).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
}

#[test]
fn a_typical_entry_takes_the_fast_path_and_keeps_its_bytes() {
    // What an audit entry holds: nested objects, strings with escapes, small integers.
    let v = serde_json::json!({
        "actor": "agent:0190c0de-0000-7000-8000-000000000000",
        "details": {"reasons": ["tool \"x\" is CRITICAL\n"], "quota": {"remaining": 41}},
        "seq": 9_007_199_254_740_992u64,
    });
    let fast = canonical_json(&v);
    assert_eq!(fast, serde_json::to_vec(&v).unwrap());
    assert_eq!(fast, serde_json_canonicalizer::to_vec(&v).unwrap());
}
