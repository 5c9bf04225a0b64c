//! The bytecode VM decides as the interpreter (regorus's reference, OPA's semantics) does: its
//! own `regex.match` and `glob.match` (which keep compiled patterns per thread) answer exactly as
//! regorus's, and wherever the interpreter reports an error — which denies — so does the VM.

use sentinel_policy::{Bundle, CompiledPolicy, Evaluator, Limits};
use serde_json::{json, Value};

const POLICY: &str = r#"package sentinel

deny contains sprintf("regex %v", [m]) if {
	m := regex.match(input.action.pattern, input.action.value)
}

deny contains sprintf("split %v", [m]) if {
	m := regex.split(input.action.splitter, input.action.value)
}

deny contains sprintf("glob %v", [m]) if {
	m := glob.match(input.action.glob, input.action.delimiters, input.action.value)
}
"#;

fn policy() -> CompiledPolicy {
    let vm = Limits {
        evaluator: Evaluator::Vm,
        ..Limits::default()
    };
    let policy = CompiledPolicy::compile(&Bundle::new().module("p.rego", POLICY), vm).unwrap();
    assert!(policy.on_bytecode(), "{:?}", policy.interpreted_because());
    policy
}

/// Evaluates `action` on both engines; returns the VM's reasons, or `None` for an error.
fn both(policy: &CompiledPolicy, action: Value) -> Option<Vec<String>> {
    let mut action = action;
    action["target"] = json!({"tool": "t"});
    let input = json!({ "action": action });
    let vm = policy.evaluate(input.clone().into());
    let tree = policy.evaluate_interpreted(input.into());
    match (vm, tree) {
        (Ok(vm), Ok(tree)) => {
            assert_eq!(vm.reasons, tree.reasons, "{action}");
            Some(vm.reasons)
        }
        (Err(_), Err(_)) => None,
        (vm, tree) => panic!("{action}: the VM says {vm:?}, the interpreter {tree:?}"),
    }
}

#[test]
fn regex_match_answers_as_regorus_does() {
    let policy = policy();
    let cases = [
        (json!("^a.*z$"), json!("abcz"), Some(true)),
        (json!("^a.*z$"), json!("abc"), Some(false)),
        (json!("(?i)^HELLO"), json!("hello world"), Some(true)),
        (json!(r"^\p{L}+$"), json!("héllo"), Some(true)),
        (
            json!(r"rm\s+-rf\s+/"),
            json!("sudo rm -rf / --no-preserve-root"),
            Some(true),
        ),
        (json!("["), json!("x"), None),
        (json!("a{1000}{1000}"), json!("a"), None),
        (json!(5), json!("5"), None),
        (json!("5"), json!(5), None),
    ];
    // Twice: the second round answers from the compiled patterns the first one kept.
    for round in 0..2 {
        for (pattern, value, expected) in &cases {
            let reasons = both(&policy, json!({"pattern": pattern, "value": value}));
            let expected = expected.map(|m| vec![format!("regex {m}")]);
            assert_eq!(reasons, expected, "round {round}: {pattern} on {value}");
        }
    }
}

#[test]
fn regex_split_answers_as_regorus_does() {
    let policy = policy();
    let cases = [
        (
            json!("[^a-z]+"),
            json!("github__create_issue"),
            Some(r#"["github", "create", "issue"]"#),
        ),
        (json!("[^a-z]+"), json!("__x__"), Some(r#"["", "x", ""]"#)),
        (json!(","), json!(""), Some(r#"[""]"#)),
        (json!("("), json!("x"), None),
        (json!(1), json!("x"), None),
        (json!(","), json!(["a,b"]), None),
    ];
    for round in 0..2 {
        for (pattern, value, expected) in &cases {
            let reasons = both(&policy, json!({"splitter": pattern, "value": value}));
            let expected = expected.map(|m| vec![format!("split {m}")]);
            assert_eq!(reasons, expected, "round {round}: {pattern} on {value}");
        }
    }
}

#[test]
fn glob_match_answers_as_regorus_does() {
    let policy = policy();
    let cases = [
        (
            json!("prod-eu-*"),
            json!(["-"]),
            json!("prod-eu-1"),
            Some(true),
        ),
        (
            json!("prod-*"),
            json!(["-"]),
            json!("prod-eu-1"),
            Some(false),
        ),
        (
            json!("prod-**"),
            json!(["-"]),
            json!("prod-eu-1"),
            Some(true),
        ),
        (
            json!("*.example.com"),
            json!(["."]),
            json!("api.example.com"),
            Some(true),
        ),
        (
            json!("*.example.com"),
            json!(["."]),
            json!("a.b.example.com"),
            Some(false),
        ),
        (
            json!("*.example.com"),
            json!([]),
            json!("a.b.example.com"),
            Some(false),
        ),
        (json!("*"), json!(null), json!("a/b"), Some(true)),
        (json!("a/*"), json!(["/"]), json!("a/b/c"), Some(false)),
        (json!("a:*"), json!([":"]), json!("a:b"), Some(true)),
        (
            json!("{api,web}-?"),
            json!(["-"]),
            json!("web-1"),
            Some(true),
        ),
        (json!("*"), json!(["ab"]), json!("x"), None),
        (json!("*"), json!([1]), json!("x"), None),
        (json!("*"), json!("."), json!("x"), None),
        (json!("[a"), json!(["."]), json!("x"), None),
        (json!("*"), json!(["."]), json!("a\u{0}b"), None),
        (json!(1), json!(["."]), json!("x"), None),
    ];
    for round in 0..2 {
        for (pattern, delimiters, value, expected) in &cases {
            let reasons = both(
                &policy,
                json!({"glob": pattern, "delimiters": delimiters, "value": value}),
            );
            let expected = expected.map(|m| vec![format!("glob {m}")]);
            assert_eq!(
                reasons, expected,
                "round {round}: {pattern} {delimiters} on {value}"
            );
        }
    }
}

/// What an agent controls — its arguments — can have any type. Wherever the interpreter
/// reports an error (so the action is denied), the VM must too, never treat the rule as not
/// matching: that would let a wrong type slip past a `deny`.
#[test]
fn type_confused_arguments_fail_closed_on_the_vm() {
    let src = r#"package sentinel
deny contains "gt" if input.action.a > 10
deny contains "div" if 10 / input.action.b > 1
deny contains "lower" if contains(lower(input.action.c), "drop")
deny contains "plus" if input.action.d + 1 > 2
deny contains "eq" if input.action.e == 1
deny contains "count" if count(input.action.f) > 2
deny contains "truthy" if input.action.g
deny contains "union" if count(input.action.h | {1}) > 2
deny contains "minus" if input.action.i - 1 > 2
deny contains "difference" if count(input.action.j - {1}) > 1
deny contains "mod" if input.action.k % 2 == 1
deny contains "range" if count(numbers.range(1, input.action.l)) > 2
deny contains "in" if "a" in input.action.m
deny contains "iterate" if input.action.n[_] == "x"
deny contains "some" if { some x in input.action.o; x == "x" }
deny contains "every" if { input.action.p; every x in input.action.p { x == 1 } }
deny contains "sprintf" if sprintf("%d", [input.action.q]) == "1"
"#;
    let vm = Limits {
        evaluator: Evaluator::Vm,
        ..Limits::default()
    };
    let policy = CompiledPolicy::compile(&Bundle::new().module("p.rego", src), vm).unwrap();
    assert!(policy.on_bytecode(), "{:?}", policy.interpreted_because());
    let denied = |reason: &str| Some(vec![reason.to_string()]);
    let not_denied = Some(vec!["t is CRITICAL and needs a human".to_string()]);
    let cases = [
        (json!({"a": 20}), denied("gt")),
        // Rego orders values of different types (numbers before strings before arrays).
        (json!({"a": "20"}), denied("gt")),
        (json!({"a": [1]}), denied("gt")),
        (json!({"b": 5}), denied("div")),
        (json!({"b": 0}), None),
        (json!({"b": "x"}), None),
        (json!({"c": "DROP table"}), denied("lower")),
        (json!({"c": 5}), None),
        (json!({"c": ["drop"]}), None),
        (json!({"d": 5}), denied("plus")),
        (json!({"d": "5"}), None),
        (json!({"d": null}), None),
        (json!({"e": "1"}), not_denied.clone()),
        (json!({"f": "abcd"}), denied("count")),
        (json!({"f": [1, 2, 3]}), denied("count")),
        (json!({"f": 5}), None),
        (json!({"g": null}), denied("truthy")),
        (json!({"g": 0}), denied("truthy")),
        (json!({"g": false}), not_denied.clone()),
        (json!({"h": 5}), None),
        (json!({"i": 5}), denied("minus")),
        (json!({"i": "5"}), None),
        (json!({"j": [1, 2]}), None),
        (json!({"k": 3}), denied("mod")),
        (json!({"k": 2.5}), None),
        (json!({"k": "3"}), None),
        (json!({"l": 5}), denied("range")),
        (json!({"l": 2.5}), None),
        (json!({"m": ["a"]}), denied("in")),
        (json!({"m": {"k": "a"}}), denied("in")),
        (json!({"m": "abc"}), not_denied.clone()),
        (json!({"m": 5}), not_denied.clone()),
        (json!({"n": ["x"]}), denied("iterate")),
        (json!({"n": "x"}), not_denied.clone()),
        (json!({"n": 5}), not_denied.clone()),
        (json!({"o": {"k": "x"}}), denied("some")),
        (json!({"p": [1, 1]}), denied("every")),
        (json!({"p": 1}), not_denied.clone()),
        (json!({"p": "1"}), not_denied.clone()),
        (json!({"q": 1}), denied("sprintf")),
        (json!({"q": "1"}), not_denied.clone()),
    ];
    for (action, expected) in cases {
        assert_eq!(both(&policy, action.clone()), expected, "{action}");
    }
    // The one difference left: `some x in "x"` iterates over nothing on the VM, as in OPA
    // (where iterating a scalar is undefined, not an error); regorus's interpreter is stricter
    // and reports an error. Written down here so that a change on either side is noticed.
    let input = json!({"action": {"o": "x", "target": {"tool": "t"}}});
    let vm = policy.evaluate(input.clone().into()).unwrap();
    assert_eq!(vm.reasons, ["t is CRITICAL and needs a human"]);
    assert!(policy.evaluate_interpreted(input.into()).is_err());
}
