//! The policy engine as operators meet it: shipped bundles pass their own tests, errors are
//! located, and evaluation fails closed.

use std::path::Path;
use std::time::{Duration, Instant};

use sentinel_policy::*;
use serde_json::json;

fn shipped(name: &str) -> Bundle {
    Bundle::from_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../policies")
            .join(name),
    )
    .unwrap()
}

#[test]
fn shipped_bundles_pass_their_tests() {
    for name in ["baseline", "sre"] {
        let policy = CompiledPolicy::compile(&shipped(name), Limits::default()).unwrap();
        let reports = policy.run_tests();
        assert!(reports.len() >= 4, "{name}: {reports:?}");
        for r in &reports {
            assert_eq!(r.outcome, TestOutcome::Pass, "{name}: {r:?}");
        }
    }
}

#[test]
fn failing_tests_are_reported_as_failures() {
    let bundle = shipped("baseline").module("wrong_test.rego", "package sentinel\ntest_wrong if {\n\tdecision.outcome == \"allow\" with input as {\"action\": {\"target\": {\"tool\": \"x\"}}}\n}\n");
    let policy = CompiledPolicy::compile(&bundle, Limits::default()).unwrap();
    let wrong = policy
        .run_tests()
        .into_iter()
        .find(|r| r.name == "data.sentinel.test_wrong")
        .unwrap();
    assert_eq!(wrong.outcome, TestOutcome::Fail);
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let bundle = Bundle::new().module(
        "broken.rego",
        "package sentinel\n\ndeny contains msg if {\n  msg := \n}\n",
    );
    match CompiledPolicy::compile(&bundle, Limits::default()) {
        Err(PolicyError::Invalid(errors)) => {
            assert_eq!(errors[0].file, "broken.rego", "{errors:?}");
            assert!(errors[0].line >= 4, "{errors:?}");
            assert!(errors[0].col > 0, "{errors:?}");
        }
        other => panic!("expected a located error, got {:?}", other.err()),
    }
}

#[test]
fn unsafe_variables_are_compile_errors() {
    let bundle = Bundle::new().module(
        "u.rego",
        "package sentinel\ndeny contains msg if { x > 1 }\n",
    );
    assert!(matches!(
        CompiledPolicy::compile(&bundle, Limits::default()),
        Err(PolicyError::Invalid(_))
    ));
}

#[test]
fn runtime_errors_fail_closed() {
    // Conflicting values for a complete rule are a run-time error in Rego.
    let bundle = Bundle::new().module(
        "conflict.rego",
        "package sentinel\nlabel := \"a\" if input.action.x\nlabel := \"b\" if input.action.x\ndeny contains label if input.action.x\n",
    );
    let policy = CompiledPolicy::compile(&bundle, Limits::default()).unwrap();
    let err = policy
        .evaluate(json!({"action": {"x": true, "target": {"tool": "t"}}}).into())
        .unwrap_err();
    assert!(matches!(err, PolicyError::Evaluation(_)), "{err:?}");
}

#[test]
fn runaway_rules_are_stopped_at_the_time_limit() {
    let bundle = Bundle::new().module(
        "slow.rego",
        "package sentinel\ndeny contains \"slow\" if {\n  input.action.slow\n  count([1 | some x in numbers.range(1, 5000); some y in numbers.range(1, 5000); x != y]) > 0\n}\n",
    );
    for evaluator in [Evaluator::Interpreter, Evaluator::Vm] {
        let limits = Limits {
            timeout: Duration::from_millis(50),
            evaluator,
            ..Limits::default()
        };
        let policy = CompiledPolicy::compile(&bundle, limits).unwrap();
        assert_eq!(policy.on_bytecode(), evaluator == Evaluator::Vm);
        let started = Instant::now();
        let err = policy
            .evaluate(json!({"action": {"slow": true, "target": {"tool": "t"}}}).into())
            .unwrap_err();
        assert!(
            matches!(err, PolicyError::Timeout(_)),
            "{evaluator:?}: {err:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{evaluator:?} stopped promptly: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn revisions_are_content_hashes() {
    let a = shipped("sre");
    assert_eq!(a.revision(), shipped("sre").revision());
    assert!(a.revision().starts_with("sha256:"));
    let b = a.clone().data(json!({"risk_matrix": {}}));
    assert_ne!(a.revision(), b.revision());
}

#[test]
fn the_agent_cannot_lower_a_risk() {
    let policy = CompiledPolicy::compile(&shipped("sre"), Limits::default()).unwrap();
    let input = json!({"action": {"target": {"tool": "rollback_deployment"}, "risk": "safe",
        "context": {"labels": {"risk": "safe"}}}});
    let v = policy.evaluate(input.into()).unwrap();
    assert_eq!(v.outcome, Outcome::ApprovalRequired);
    assert_eq!(v.risk, sentinel_core::Risk::Critical);
}

#[test]
fn bundles_over_the_limits_are_refused() {
    assert!(matches!(
        CompiledPolicy::compile(&Bundle::new(), Limits::default()),
        Err(PolicyError::Invalid(_))
    ));
    let huge = Bundle::new().module(
        "big.rego",
        &format!("package sentinel\n# {}\n", "x".repeat(2 << 20)),
    );
    assert!(matches!(
        CompiledPolicy::compile(&huge, Limits::default()),
        Err(PolicyError::Invalid(_))
    ));
}

#[test]
fn rules_that_fired_are_not_reported_as_never_fired() {
    let bundle = Bundle::new().module(
        "r.rego",
        "package sentinel\n\nredact contains \"$.arguments.token\" if input.action.arguments.token\n\ndeny contains msg if {\n\tinput.action.arguments.bad\n\tmsg := sprintf(\n\t\t\"bad %s\",\n\t\t[input.action.target.tool],\n\t)\n}\n\ndeny contains msg if {\n\tinput.action.arguments.never\n\tmsg := \"never\"\n}\n",
    );
    let policy = CompiledPolicy::compile(&bundle, Limits::default()).unwrap();
    let inputs = vec![
        json!({"action": {"target": {"tool": "t"}, "arguments": {"token": "x"}}}).into(),
        json!({"action": {"target": {"tool": "t"}, "arguments": {"bad": true}}}).into(),
    ];
    let (verdicts, never) = policy.evaluate_all(inputs);
    assert!(verdicts.iter().all(Result::is_ok));
    let lines: Vec<u32> = never.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![13], "only the rule no input reached: {never:?}");
}

#[test]
fn approval_settings_come_from_bundle_data_with_per_tool_overrides() {
    let bundle = Bundle::new()
        .module(
            "hold.rego",
            "package sentinel\napproval contains \"held\" if input.action.target.tool != \"\"\n",
        )
        .data(json!({"approvals": {"approvers": 1, "ttl_seconds": 600,
            "tools": {"rollback": {"approvers": 2, "ttl_seconds": 60}}}}));
    let policy = CompiledPolicy::compile(&bundle, Limits::default()).unwrap();
    let verdict = |tool: &str| {
        policy
            .evaluate(json!({"action": {"target": {"tool": tool}}}).into())
            .unwrap()
    };
    let plain = verdict("restart");
    assert_eq!(
        (plain.approvers, plain.approval_ttl_seconds),
        (1, Some(600))
    );
    let strict = verdict("rollback");
    assert_eq!(strict.outcome, Outcome::ApprovalRequired);
    assert_eq!(
        (strict.approvers, strict.approval_ttl_seconds),
        (2, Some(60))
    );

    // No settings: one approver, the server's default expiry.
    let empty = || Bundle::new().module("empty.rego", "package sentinel\n");
    let bare = CompiledPolicy::compile(&empty(), Limits::default()).unwrap();
    let v = bare
        .evaluate(json!({"action": {"target": {"tool": "x"}}}).into())
        .unwrap();
    assert_eq!((v.approvers, v.approval_ttl_seconds), (1, None));

    // Nonsense settings fail closed rather than being guessed at.
    let bad = CompiledPolicy::compile(
        &empty().data(json!({"approvals": {"approvers": 0}})),
        Limits::default(),
    )
    .unwrap();
    assert!(bad
        .evaluate(json!({"action": {"target": {"tool": "x"}}}).into())
        .is_err());
}

#[test]
fn a_rule_of_the_bundle_can_raise_a_risk() {
    let bundle = Bundle::new()
        .module(
            "prod.rego",
            "package sentinel\n\nknown_risk(\"critical\") if input.action.arguments.namespace == \"production\"\n",
        )
        .data(json!({"risk_matrix": {"restart": "safe"}}));
    let policy = CompiledPolicy::compile(&bundle, Limits::default()).unwrap();
    let verdict = |ns: &str| {
        policy
            .evaluate(
                json!({"action": {"target": {"tool": "restart"}, "arguments": {"namespace": ns}}})
                    .into(),
            )
            .unwrap()
    };
    assert_eq!(verdict("staging").risk, sentinel_core::Risk::Safe);
    let prod = verdict("production");
    assert_eq!(prod.risk, sentinel_core::Risk::Critical);
    assert_eq!(prod.outcome, Outcome::ApprovalRequired);
}

/// The bytecode VM and the interpreter must agree: every shipped bundle runs on the VM, and
/// gives the interpreter's verdict on a spread of inputs.
#[test]
fn the_bytecode_vm_decides_as_the_interpreter_does() {
    let tools = [
        "query_metrics",
        "restart_kubernetes_pod",
        "rollback_deployment",
        "flush_redis_cache",
        "send_email",
        "unknown_tool",
    ];
    for name in ["baseline", "sre"] {
        let vm = Limits {
            evaluator: Evaluator::Vm,
            ..Limits::default()
        };
        let policy = CompiledPolicy::compile(&shipped(name), vm).unwrap();
        assert!(
            policy.on_bytecode(),
            "{name} fell back to the interpreter: {:?}",
            policy.interpreted_because()
        );
        for tool in tools {
            for (i, args) in [
                json!({}),
                json!({"namespace": "kube-system"}),
                json!({"namespace": "payments", "pod": "api-1"}),
                json!({"to": "someone@example.com", "body": "hi"}),
            ]
            .into_iter()
            .enumerate()
            {
                let input = json!({
                    "action": {"kind": "tool_call", "target": {"tool": tool}, "arguments": args,
                               "context": {"provenance": if i % 2 == 0 { json!([]) } else { json!([{"source": "tool:web.fetch", "trust": "untrusted"}]) }}},
                    "agent": {"name": "sre-bot", "status": "active", "labels": {}},
                    "tool": if i == 3 { json!({"risk": "safe", "is_active": false}) } else { json!(null) },
                    "scan": {"findings": if i == 1 { json!([{"detector": "injection", "rule": "override", "score": 0.9, "path": "$.arguments.body"}]) } else { json!([]) }},
                    "quota": null,
                    "now": "2026-11-22T05:00:00Z",
                });
                let vm = policy.evaluate(input.clone().into());
                let tree = policy.evaluate_interpreted(input.clone().into());
                assert_eq!(format!("{vm:?}"), format!("{tree:?}"), "{name}: {input}");
            }
        }
    }
}

/// Why the VM is opt-in: where OPA (and regorus's interpreter) report conflicting outputs as
/// errors — which deny — the VM resolves them silently. If regorus changes that, this test
/// says so, and the VM can become the default.
#[test]
fn the_vm_resolves_conflicts_the_interpreter_reports() {
    let vm = Limits {
        evaluator: Evaluator::Vm,
        ..Limits::default()
    };
    for src in [
        "package sentinel\nlabel := y if { some y in input.action.list }\ndeny contains label if input.action.x\n",
        "package sentinel\nlabel := \"a\" if input.action.x\nlabel := \"b\" if input.action.x\ndeny contains label if input.action.x\n",
        "package sentinel\nf(x) := 1 if x > 0\nf(x) := 2 if x > 1\ndeny contains \"f\" if f(input.action.n) == 1\n",
    ] {
        let policy = CompiledPolicy::compile(&Bundle::new().module("p.rego", src), vm).unwrap();
        assert!(policy.on_bytecode());
        let input = json!({"action": {"x": true, "list": [1, 2], "n": 5, "target": {"tool": "t"}}});
        assert!(policy.evaluate_interpreted(input.clone().into()).is_err(), "{src}");
        assert!(policy.evaluate(input.into()).is_ok(), "the VM now reports conflicts: {src}");
    }
}
