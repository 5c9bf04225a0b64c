//! Rule indexing: the program that decides an input leaves out the rules whose leading guards it
//! fails, and decides exactly as the whole bundle on the interpreter does, errors included.

use sentinel_policy::{Bundle, CompiledPolicy, Outcome, PolicyError, TestOutcome};
use serde_json::{json, Value};

const KEYED: &str = r#"package sentinel

deny contains "legacy_tool is retired" if input.action.target.tool == "legacy_tool"

deny contains msg if {
	input.action.arguments.namespace == "kube-system"
	"restart_pod" == input.action.target.tool
	msg := sprintf("restart_pod is not allowed in %s", [input.action.arguments.namespace])
}

approval contains "große Rückerstattung" if {
	input.action.target.tool == `issue_refund`
	input.action.arguments.amount >= 1000
}

# Guards on the session and on a prefix of the tool's name.
approval contains "a tainted session writes" if {
	input.session.tainted
	startswith(input.action.target.tool, "write_")
	input.action.arguments.path != "/tmp"
}

# A guard that calls builtins: run before the VM, errors (a query that is not a string) kept.
deny contains msg if {
	contains(lower(input.action.arguments.query), "drop table")
	msg := "no drop table"
}

# Not indexed: it opens with `not`.
deny contains "not a legacy tool" if {
	not input.action.target.tool == "legacy_tool"
	input.action.arguments.forbid_all == true
}

# A run-time error after the key: only actions on `divide` reach it.
deny contains msg if {
	input.action.target.tool == "divide"
	msg := sprintf("%v", [input.action.arguments.n / 0])
}

# Patterns compiled once for the guards (and one that does not compile); one call shared.
deny contains "rm -rf" if regex.match(`^\s*rm\s+-(rf|fr)\s`, input.action.arguments.command)
deny contains "a bad pattern" if regex.match(`(`, input.action.arguments.pattern_subject)
approval contains "production" if glob.match("prod-*", ["-"], input.action.arguments.place)
approval contains "under /etc" if glob.match("/etc/*", null, input.action.arguments.place)
approval contains "a secret bucket" if glob.match("s3:*:secret", [":"], input.action.arguments.place)
approval contains "a dotted host" if glob.match("*.internal", [], input.action.arguments.place)
approval contains "drop, on the legacy tool" if {
	contains(lower(input.action.arguments.query), "drop")
	input.action.target.tool == "legacy_tool"
}

test_legacy_tool_is_denied if {
	deny["legacy_tool is retired"] with input as {"action": {"target": {"tool": "legacy_tool"}}}
}
"#;

/// The bundle on the bytecode VM (the index is the VM's).
fn policy(source: &str) -> CompiledPolicy {
    let policy = compile(source);
    assert!(policy.on_bytecode(), "{:?}", policy.interpreted_because());
    policy
}

fn compile(source: &str) -> CompiledPolicy {
    let bundle = Bundle::new()
        .module("keyed.rego", source)
        .data(json!({"risk_matrix": {"legacy_tool": "safe", "restart_pod": "warning", "issue_refund": "safe", "query_db": "safe", "divide": "safe", "write_file": "safe"}}));
    CompiledPolicy::compile(&bundle, Default::default()).unwrap()
}

fn input(tool: Value, arguments: Value) -> Value {
    json!({"action": {"kind": "tool_call", "target": {"tool": tool}, "arguments": arguments}})
}

fn in_session(tool: Value, arguments: Value, session: Value) -> Value {
    let mut input = input(tool, arguments);
    input["session"] = session;
    input
}

/// Every tool the bundle names, one it does not, a tool that is not a string and a missing one,
/// each with arguments that fire and that do not fire each rule.
#[test]
fn indexed_decisions_equal_the_whole_bundle_s() {
    let policy = policy(KEYED);
    // All but the one that opens with `not`.
    assert_eq!(policy.rules_indexed(), 13);
    let tools = [
        json!("legacy_tool"),
        json!("restart_pod"),
        json!("issue_refund"),
        json!("query_db"),
        json!("divide"),
        json!("write_file"),
        json!(7),
        json!(null),
    ];
    let arguments = [
        json!({}),
        json!({"namespace": "kube-system"}),
        json!({"amount": 5000}),
        json!({"amount": 10, "query": "DROP TABLE users"}),
        json!({"query": 42}),
        json!({"forbid_all": true, "n": 4}),
        json!({"path": "/etc/passwd"}),
        json!({"command": "  rm -rf /", "place": "prod-eu-1"}),
        json!({"command": "rm -r /", "place": "/etc/passwd", "query": "Drop it"}),
        json!({"command": 7, "place": "s3:x:secret"}),
        json!({"place": "s3:x:y:secret"}),
        json!({"place": "db.internal"}),
        json!({"place": "a/b.internal", "pattern_subject": 3}),
        json!({"place": ["prod-1"], "pattern_subject": "x"}),
        json!({"place": "prod-\u{0}"}),
    ];
    let sessions = [
        json!(null),
        json!({"tainted": true}),
        json!({"tainted": false}),
        json!({"tainted": "yes"}),
    ];
    // Twice over, so that the second pass runs on the warm per-tool VMs.
    for _ in 0..2 {
        for tool in &tools {
            for args in &arguments {
                for session in &sessions {
                    same(
                        &policy,
                        &in_session(tool.clone(), args.clone(), session.clone()),
                    );
                }
            }
        }
    }
    same(
        &policy,
        &json!({"action": {"kind": "tool_call", "arguments": {}}}),
    );
}

/// The verdict of the VM and of the interpreter on the whole bundle are the same, or both are
/// errors (whose messages the two engines word differently): both while the input's program is
/// compiled (the whole bundle on the VM decides) and once it is ready.
fn same(policy: &CompiledPolicy, input: &Value) {
    let whole = policy.evaluate_interpreted(input.clone().into());
    let first = policy.evaluate(input.clone().into());
    settle(policy);
    let indexed = policy.evaluate(input.clone().into());
    for vm in [first, indexed] {
        match (&vm, &whole) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{input}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{input}: VM {vm:?}, whole bundle on the interpreter {whole:?}"),
        }
    }
}

/// Waits until the compiler thread has compiled every program the decisions so far queued.
fn settle(policy: &CompiledPolicy) {
    assert!(
        policy.settle(std::time::Duration::from_secs(60)),
        "programs still compiling"
    );
}

#[test]
fn each_tool_gets_its_own_rules_and_only_those() {
    let policy = policy(KEYED);
    let decide = |tool: &str, args: Value| policy.evaluate(input(json!(tool), args).into());
    let legacy = decide("legacy_tool", json!({})).unwrap();
    assert_eq!(legacy.outcome, Outcome::Deny);
    assert_eq!(legacy.reasons, ["legacy_tool is retired"]);
    let refund = decide("issue_refund", json!({"amount": 5000})).unwrap();
    assert_eq!(refund.outcome, Outcome::ApprovalRequired);
    assert_eq!(refund.reasons, ["große Rückerstattung"]);
    let pod = decide("restart_pod", json!({"namespace": "kube-system"})).unwrap();
    assert_eq!(pod.reasons, ["restart_pod is not allowed in kube-system"]);
    // The unkeyed rules still apply to every tool.
    let tainted = |tool: &str, tainted: bool| {
        policy
            .evaluate(
                in_session(
                    json!(tool),
                    json!({"path": "/etc/hosts"}),
                    json!({"tainted": tainted}),
                )
                .into(),
            )
            .unwrap()
    };
    assert_eq!(
        tainted("write_file", true).reasons,
        ["a tainted session writes"]
    );
    assert_eq!(tainted("write_file", false).outcome, Outcome::Allow);
    assert_eq!(tainted("query_db", true).outcome, Outcome::Allow);
    // startswith on a number is an error, which still denies.
    assert!(policy
        .evaluate(in_session(json!(7), json!({}), json!({"tainted": true})).into())
        .is_err());
    // Five sets of rules reached so far (legacy_tool's, the refund's, restart_pod's, the
    // tainted write's, none), each with its own program once compiled.
    settle(&policy);
    assert_eq!(policy.indexed_programs(), 5);
    assert_eq!(
        tainted("write_file", true).reasons,
        ["a tainted session writes"]
    );
    let query = decide("query_db", json!({"query": "drop table x"})).unwrap();
    assert_eq!(query.reasons, ["no drop table"]);
    assert_eq!(
        decide("query_db", json!({})).unwrap().outcome,
        Outcome::Allow
    );
    // The erroring rule fails only the decisions about its own tool, closed.
    assert_eq!(
        decide("legacy_tool", json!({"n": 1})).unwrap().outcome,
        Outcome::Deny
    );
    assert_eq!(
        decide("query_db", json!({"n": 1})).unwrap().outcome,
        Outcome::Allow
    );
    assert!(matches!(
        decide("divide", json!({"n": 1})),
        Err(PolicyError::Evaluation(_))
    ));
}

/// Tests still see every rule: they run on the whole bundle.
#[test]
fn tests_run_on_the_whole_bundle() {
    let reports = policy(KEYED).run_tests();
    assert_eq!(reports.len(), 1);
    assert!(
        reports.iter().all(|r| r.outcome == TestOutcome::Pass),
        "{reports:?}"
    );
}

/// `with` outside a test can evaluate a rule under another input, so such a bundle is not
/// indexed (regorus's bytecode compiler refuses `with` today, so the interpreter decides it),
/// and still decides right.
#[test]
fn a_bundle_using_with_is_not_indexed() {
    let source = format!(
        "{KEYED}\nlegacy_would_be_denied if {{ count(deny) > 0 with input as {{\"action\": {{\"target\": {{\"tool\": \"legacy_tool\"}}}}}} }}\n\napproval contains \"mirrors legacy\" if {{ legacy_would_be_denied; input.action.target.tool == \"mirror\" }}\n"
    );
    let policy = compile(&source);
    assert_eq!(policy.rules_indexed(), 0);
    let mirror = policy
        .evaluate(input(json!("mirror"), json!({})).into())
        .unwrap();
    assert!(
        mirror.reasons.contains(&"mirrors legacy".to_string()),
        "{:?}",
        mirror.reasons
    );
}

/// A bundle that names many tools compiles each program only when a decision needs it, up to
/// the cap; past it, the whole bundle decides the inputs that would need another program.
#[test]
fn many_indexed_tools_past_the_cap() {
    let mut source = String::from("package sentinel\n");
    for n in 0..300 {
        source.push_str(&format!(
            "deny contains \"tool_{n} is retired\" if input.action.target.tool == \"tool_{n}\"\n"
        ));
    }
    let started = std::time::Instant::now();
    let policy = policy(&source);
    assert_eq!(policy.rules_indexed(), 300);
    // 256 programs, one per tool, then the whole bundle for the 44 more; and again, warm.
    for n in (0..300).chain([299, 0, 150]) {
        let v = policy
            .evaluate(input(json!(format!("tool_{n}")), json!({})).into())
            .unwrap();
        assert_eq!(v.reasons, [format!("tool_{n} is retired")]);
    }
    settle(&policy);
    assert_eq!(policy.indexed_programs(), 256, "the cap");
    for n in [0, 255, 299] {
        let v = policy
            .evaluate(input(json!(format!("tool_{n}")), json!({})).into())
            .unwrap();
        assert_eq!(v.reasons, [format!("tool_{n} is retired")]);
    }
    let other = policy
        .evaluate(input(json!("tool_300"), json!({})).into())
        .unwrap();
    assert_eq!(
        other.outcome,
        Outcome::ApprovalRequired,
        "an unknown tool is critical"
    );
    eprintln!(
        "300 indexed tools: compiled, then decided 304 times in {:?}",
        started.elapsed()
    );
}
