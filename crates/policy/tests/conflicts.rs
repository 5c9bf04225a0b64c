//! The `auto` evaluator: bundles that provably cannot produce conflicting values run on the
//! bytecode VM; the rest run on the interpreter, which reports a conflict as an error (and so
//! denies) where the VM would pick a value.

use sentinel_policy::{Bundle, CompiledPolicy, Evaluator, Limits, PolicyError};
use serde_json::json;

fn auto(src: &str) -> CompiledPolicy {
    CompiledPolicy::compile(&Bundle::new().module("p.rego", src), Limits::default())
        .unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn shipped(name: &str) -> Bundle {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies")
        .join(name);
    Bundle::from_dir(&dir).unwrap()
}

#[test]
fn auto_is_the_default_evaluator() {
    assert_eq!(Limits::default().evaluator, Evaluator::Auto);
}

#[test]
fn conflict_free_bundles_run_on_the_vm() {
    for src in [
        // Partial sets never conflict.
        "package sentinel\ndeny contains msg if { some t in input.action.tags; msg := t }\n",
        // The same constant from several definitions and iterating bodies.
        "package sentinel\nbad if input.action.x\nbad if { some t in input.action.tags; t == \"x\" }\ndeny contains \"bad\" if bad\n",
        // One definition whose value varies but whose body cannot iterate.
        "package sentinel\nlabel := upper(input.action.name) if input.action.name\ndeny contains label if input.action.x\n",
        // An else chain whose branches differ.
        "package sentinel\nlevel := \"a\" if input.action.x else := \"b\" if input.action.y else := \"c\"\ndeny contains level if input.action.z\n",
        // An index bound by an earlier assignment is a lookup, not iteration.
        "package sentinel\nowner := o if { t := input.action.target.tool; o := data.owners[t] }\ndeny contains owner if input.action.z\n",
        // Comprehensions iterate inside but yield one value.
        "package sentinel\nnames := {n | some n in input.action.names}\ndeny contains \"many\" if count(names) > 3\n",
        // A function with one definition, its argument bound.
        "package sentinel\nshout(s) := upper(s)\ndeny contains shout(input.action.name) if input.action.x\n",
    ] {
        let policy = auto(src);
        assert!(
            policy.on_bytecode(),
            "{src}\nwent to the interpreter: {:?}",
            policy.interpreted_because()
        );
    }
}

#[test]
fn bundles_that_may_conflict_run_on_the_interpreter_and_deny() {
    for (src, rule) in [
        (
            "package sentinel\nlabel := y if { some y in input.action.list }\ndeny contains label if input.action.x\n",
            "data.sentinel.label",
        ),
        (
            "package sentinel\nlabel := \"a\" if input.action.x\nlabel := \"b\" if input.action.x\ndeny contains label if input.action.x\n",
            "data.sentinel.label",
        ),
        (
            "package sentinel\nf(x) := 1 if x > 0\nf(x) := 2 if x > 1\ndeny contains \"f\" if f(input.action.n) == 1\n",
            "data.sentinel.f",
        ),
        (
            "package sentinel\nfirst := x if { x := input.action.list[_] }\ndeny contains first if input.action.x\n",
            "data.sentinel.first",
        ),
        (
            "package sentinel\nlevel = input.action.n\nlevel = input.action.x\ndeny contains \"x\" if level == 5\n",
            "data.sentinel.level",
        ),
        (
            "package sentinel\nowners[t] := o if { some t, o in input.action.owners }\ndeny contains \"o\" if owners.a\n",
            "data.sentinel.owners",
        ),
    ] {
        let policy = auto(src);
        assert!(!policy.on_bytecode(), "{src} ran on the VM");
        let why = policy.interpreted_because().unwrap_or_default();
        assert!(why.contains(rule), "{src}: {why}");
        assert!(why.contains("p.rego:"), "the reason is located: {why}");
        // Inputs on which each of them conflicts: the interpreter reports it, so the caller
        // denies instead of taking one of the values.
        let input = json!({"action": {"x": true, "n": 5, "list": ["a", "b"],
                                      "owners": {"a": 1}, "target": {}}});
        if !src.contains("owners") {
            let err = policy.evaluate(input.into()).unwrap_err();
            assert!(matches!(err, PolicyError::Evaluation(_)), "{src}: {err:?}");
        }
    }
}

#[test]
fn the_shipped_bundles_and_the_library_run_on_the_vm() {
    for name in ["baseline", "sre"] {
        let policy = CompiledPolicy::compile(&shipped(name), Limits::default()).unwrap();
        assert!(
            policy.on_bytecode(),
            "{name}: {:?}",
            policy.interpreted_because()
        );
    }
}

#[test]
fn a_user_rule_redefining_the_library_goes_to_the_interpreter() {
    let policy = auto("package sentinel\nrisk := \"safe\" if input.action.trusted\n");
    assert!(!policy.on_bytecode());
    assert!(policy
        .interpreted_because()
        .unwrap_or_default()
        .contains("data.sentinel.risk"));
}

/// A rule's name binds only inside its own package: elsewhere the same name is a fresh
/// variable, and an index by it iterates.
#[test]
fn rule_names_bind_only_in_their_own_package() {
    let bundle = Bundle::new()
        .module(
            "p.rego",
            "package sentinel\ndeny contains \"x\" if data.other.x\n",
        )
        .module(
            "o.rego",
            "package other\nx := y if { y := input.action.list[risk] }\n",
        );
    let policy = CompiledPolicy::compile(&bundle, Limits::default()).unwrap();
    assert!(!policy.on_bytecode());
    let why = policy.interpreted_because().unwrap_or_default();
    assert!(why.contains("data.other.x (o.rego:2)"), "{why}");
    // In its own package the same index is a lookup by the rule's value.
    let bundle = Bundle::new().module(
        "p.rego",
        "package sentinel\nlabel := y if { y := data.labels[risk] }\ndeny contains label if input.action.x\n",
    );
    let policy = CompiledPolicy::compile(&bundle, Limits::default()).unwrap();
    assert!(policy.on_bytecode(), "{:?}", policy.interpreted_because());
}
