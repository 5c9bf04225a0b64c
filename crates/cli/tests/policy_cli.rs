//! The policy, decision and kill-switch commands through the real binary: `policy test` offline,
//! located `policy validate` errors, push and activate, `sentinel check` exit codes per outcome,
//! kill and restore, simulate, shadow, the decision log.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{ok, run, run_as, sentinel, start, stderr, stdout, Server};
use serde_json::Value;

fn shipped(bundle: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies")
        .join(bundle)
}

fn write_bundle(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, source) in files {
        std::fs::write(dir.join(name), source).unwrap();
    }
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A tenant `acme` with agent `sre-bot`; returns the agent's key.
fn acme(server: &Server) -> String {
    ok(run(server, &["tenants", "create", "acme"]));
    ok(run(server, &["agents", "create", "-t", "acme", "sre-bot"]));
    let created = ok(run(
        server,
        &[
            "keys", "create", "-t", "acme", "--role", "agent", "--agent", "sre-bot", "-o", "json",
        ],
    ));
    let created: Value = serde_json::from_str(&created).unwrap();
    created["secret"].as_str().unwrap().to_string()
}

/// `sentinel check` as the agent: (exit code, stdout).
fn check(server: &Server, key: &str, tool: &str, args: &str) -> (i32, String) {
    let out = run_as(server, key, &["check", "--tool", tool, "--args", args]);
    assert!(
        out.status.code().is_some_and(|c| c != 1),
        "check failed: {}",
        stderr(&out)
    );
    (out.status.code().unwrap(), stdout(&out))
}

/// Waits until the decision log holds `n` records (it is written off the request path).
fn recorded(server: &Server, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = ok(run(server, &["decisions", "-t", "acme", "-o", "json"]));
        let log: Vec<Value> = serde_json::from_str(&out).unwrap();
        if log.len() >= n {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "only {} decisions recorded",
            log.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn policy_test_runs_offline_and_fails_on_a_failing_test() {
    // No server anywhere: the URL points at a closed port.
    let out = sentinel()
        .args(["policy", "test", arg(&shipped("sre"))])
        .env("SENTINEL_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let text = ok(out);
    assert!(
        text.contains("data.sentinel.test_rollback_needs_a_human: PASS ("),
        "{text}"
    );
    assert!(text.trim_end().ends_with(" passed, 0 failed"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    write_bundle(
        dir.path(),
        &[
            (
                "shell.rego",
                "package sentinel\n\ndeny contains \"shell tools are disabled\" if input.tool.kind == \"shell\"\n",
            ),
            (
                "shell_test.rego",
                "package sentinel\n\nshell := {\"action\": {\"target\": {\"tool\": \"sh\"}}, \"tool\": {\"kind\": \"shell\", \"risk\": \"safe\"}}\n\n\
                 test_shell_is_denied if {\n\tdecision.outcome == \"deny\" with input as shell\n}\n\n\
                 test_shell_is_allowed if {\n\tdecision.outcome == \"allow\" with input as shell\n}\n",
            ),
        ],
    );
    let out = sentinel()
        .args(["policy", "test", arg(dir.path())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a failing test fails the run");
    let text = stdout(&out);
    assert!(text.contains("shell_test.rego:"), "{text}");
    assert!(
        text.contains("data.sentinel.test_shell_is_denied: PASS"),
        "{text}"
    );
    assert!(
        text.contains("data.sentinel.test_shell_is_allowed: FAIL"),
        "{text}"
    );
    assert!(text.contains("1 passed, 1 failed"), "{text}");

    let out = sentinel()
        .args(["policy", "test", arg(dir.path()), "-o", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(report["revision"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn validate_push_activate_and_check_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let agent_key = acme(&server);

    let broken = dir.path().join("broken");
    write_bundle(
        &broken,
        &[(
            "bad.rego",
            "package sentinel\n\ndeny contains msg if {\n  msg := \n}\n",
        )],
    );
    let out = run(&server, &["policy", "validate", arg(&broken), "-t", "acme"]);
    assert_eq!(out.status.code(), Some(1));
    let located = format!("{}:4:7: expecting", broken.join("bad.rego").display());
    assert!(stdout(&out).starts_with(&located), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("invalid (1 error)"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &server,
        &["policy", "validate", arg(&shipped("sre")), "-t", "acme"],
    );
    let said = stderr(&out);
    assert!(
        said.contains("is valid") && said.contains("decided on the bytecode VM"),
        "{said}"
    );
    let valid = ok(out);
    assert!(valid.starts_with("sha256:"), "{valid}");

    let (code, text) = check(&server, &agent_key, "query_metrics", "{}");
    assert_eq!(code, 2, "no active policy denies: {text}");
    assert!(text.contains("no policy is active"), "{text}");

    let pushed = ok(run(
        &server,
        &[
            "policy",
            "push",
            arg(&shipped("sre")),
            "-t",
            "acme",
            "--activate",
        ],
    ));
    let revision = pushed.trim().to_string();
    assert!(revision.starts_with("sha256:"), "{pushed}");

    let (code, text) = check(&server, &agent_key, "query_metrics", r#"{"query": "up"}"#);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.starts_with("outcome   allow\nrisk      safe\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("policy    acme {revision}")),
        "{text}"
    );
    let (code, text) = check(
        &server,
        &agent_key,
        "restart_kubernetes_pod",
        r#"{"namespace": "kube-system"}"#,
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("reasons   pods in kube-system are not restarted by agents"),
        "{text}"
    );
    let (code, text) = check(&server, &agent_key, "rollback_deployment", "{}");
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("rollback_deployment is CRITICAL"), "{text}");
    let out = run_as(
        &server,
        &agent_key,
        &["check", "--tool", "query_metrics", "-o", "json"],
    );
    let decision: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(decision["outcome"], "allow");
    assert_eq!(decision["policy"]["revision"], revision.as_str());

    // A second revision, activated by prefix, then rolled back.
    let strict = dir.path().join("strict");
    write_bundle(
        &strict,
        &[(
            "strict.rego",
            "package sentinel\n\ndeny contains \"maintenance window\" if true\n",
        )],
    );
    let strict_rev = ok(run(
        &server,
        &["policy", "push", arg(&strict), "-t", "acme"],
    ));
    let prefix = &strict_rev.trim()[..15];
    ok(run(&server, &["policy", "activate", prefix, "-t", "acme"]));
    let (code, text) = check(&server, &agent_key, "query_metrics", "{}");
    assert_eq!(code, 2);
    assert!(text.contains("maintenance window"), "{text}");
    ok(run(&server, &["policy", "rollback", "-t", "acme"]));
    assert_eq!(check(&server, &agent_key, "query_metrics", "{}").0, 0);
    let list = ok(run(&server, &["policy", "list", "-t", "acme"]));
    let active_line = list.lines().find(|l| l.contains("active")).unwrap();
    assert!(active_line.starts_with(&revision), "{list}");

    // Checks need an agent key; the admin key is refused with a clear error (exit 1).
    let out = run(&server, &["check", "--tool", "query_metrics"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("agent key"), "{}", stderr(&out));
}

#[test]
fn kill_restore_simulate_shadow_and_the_decision_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let agent_key = acme(&server);
    ok(run(
        &server,
        &[
            "policy",
            "push",
            arg(&shipped("sre")),
            "-t",
            "acme",
            "--activate",
        ],
    ));
    assert_eq!(check(&server, &agent_key, "query_metrics", "{}").0, 0);

    let killed = run(
        &server,
        &[
            "kill",
            "-t",
            "acme",
            "--agent",
            "sre-bot",
            "--reason",
            "runaway loop",
            "-o",
            "json",
        ],
    );
    let kill: Value = serde_json::from_str(&ok(killed)).unwrap();
    let (code, text) = check(&server, &agent_key, "query_metrics", "{}");
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("kill switch (agent sre-bot) is active: runaway loop"),
        "{text}"
    );
    let kills = ok(run(&server, &["kills", "-t", "acme"]));
    assert!(kills.contains("runaway loop"), "{kills}");
    let id = kill["id"].as_str().unwrap();
    ok(run(&server, &["restore", "-t", "acme", &id[..20]]));
    assert_eq!(check(&server, &agent_key, "query_metrics", "{}").0, 0);
    let kills: Value =
        serde_json::from_str(&ok(run(&server, &["kills", "-t", "acme", "-o", "json"]))).unwrap();
    assert_eq!(kills, serde_json::json!([]));
    assert_eq!(check(&server, &agent_key, "rollback_deployment", "{}").0, 3);

    // The log: four decisions, the kill's denial among them.
    recorded(&server, 4);
    let log = ok(run(&server, &["decisions", "-t", "acme", "--limit", "10"]));
    assert!(log.starts_with("TIMESTAMP"), "{log}");
    assert!(log.contains("kill switch (agent sre-bot)"), "{log}");
    // One of them by its id, whole.
    let newest: Value = serde_json::from_str(&ok(run(
        &server,
        &["decisions", "-t", "acme", "--limit", "1", "-o", "json"],
    )))
    .unwrap();
    let id = newest[0]["decision_id"].as_str().unwrap();
    let one: Value = serde_json::from_str(&ok(run(
        &server,
        &["decisions", "-t", "acme", "--id", id, "-o", "json"],
    )))
    .unwrap();
    assert_eq!(one, newest[0]);
    let missing = run(
        &server,
        &[
            "decisions",
            "-t",
            "acme",
            "--id",
            "0195a3c0-0000-7000-8000-000000000000",
        ],
    );
    assert!(!missing.status.success());
    assert!(
        common::stderr(&missing).contains("not found"),
        "{}",
        common::stderr(&missing)
    );

    // Simulate a change freeze on diagnostics against that history.
    let candidate = dir.path().join("candidate");
    std::fs::create_dir(&candidate).unwrap();
    for entry in std::fs::read_dir(shipped("sre")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, candidate.join(path.file_name().unwrap())).unwrap();
    }
    write_bundle(
        &candidate,
        &[(
            "freeze.rego",
            "package sentinel\n\ndeny contains \"change freeze\" if input.action.target.tool == \"query_metrics\"\n\n\
             deny contains \"never\" if input.action.target.tool == \"never_called\"\n",
        )],
    );
    let sim = ok(run(
        &server,
        &[
            "policy",
            "simulate",
            arg(&candidate),
            "-t",
            "acme",
            "--last",
            "50",
        ],
    ));
    assert!(
        sim.contains("replayed against 3 recorded decision(s)"),
        "{sim}"
    );
    assert!(sim.contains("2 decision(s) would change:"), "{sim}");
    let changed: Vec<&str> = sim
        .lines()
        .filter(|l| l.contains("change freeze"))
        .collect();
    assert_eq!(changed.len(), 2, "{sim}");
    assert!(
        changed[0].contains("query_metrics") && changed[0].contains("allow"),
        "{sim}"
    );
    assert!(
        sim.contains("freeze.rego:5: deny contains \"never\""),
        "{sim}"
    );

    // Shadow the candidate: recorded beside each decision, not enforced.
    let rev = ok(run(
        &server,
        &["policy", "push", arg(&candidate), "-t", "acme"],
    ));
    ok(run(
        &server,
        &["policy", "shadow", rev.trim(), "-t", "acme"],
    ));
    assert_eq!(check(&server, &agent_key, "query_metrics", "{}").0, 0);
    let log = recorded(&server, 5);
    assert_eq!(log[0]["result"]["shadow"]["outcome"], "deny");
    ok(run(&server, &["policy", "shadow", "--off", "-t", "acme"]));
    let overview: Value = serde_json::from_str(&ok(run(
        &server,
        &["policy", "list", "-t", "acme", "-o", "json"],
    )))
    .unwrap();
    assert!(overview["shadow"].is_null());
}
