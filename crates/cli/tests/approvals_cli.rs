//! The approval workflow from the command line, through the real binary: an agent's
//! `sentinel check --wait` is held, an operator sees it in `sentinel approvals list` and
//! approves it by id prefix, and the waiting check runs the approved action with its grant.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{acme_with_agent, ok, run, sentinel, start, stderr, stdout};
use serde_json::Value;

/// `sentinel check --wait 30s` of a rollback as the agent, in the background.
fn waiting_check(server: &common::Server, key: &str, args: &str) -> std::process::Child {
    sentinel()
        .args([
            "check",
            "--tool",
            "rollback_deployment",
            "--args",
            args,
            "--wait",
            "30s",
        ])
        .env("SENTINEL_URL", &server.url)
        .env("SENTINEL_API_KEY", key)
        .env_remove("SENTINEL_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the first pending request of `acme` to reach the operator's queue.
fn first_pending(server: &common::Server) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = ok(run(
            server,
            &["approvals", "list", "-t", "acme", "-o", "json"],
        ));
        let items: Vec<Value> = serde_json::from_str(&out).unwrap();
        if let Some(first) = items.first() {
            return first.clone();
        }
        assert!(Instant::now() < deadline, "no request reached the queue");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_held_check_waits_for_an_operator_and_then_runs_once() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let agent_key = acme_with_agent(&server);

    // The agent asks and waits, in the background.
    let waiting = waiting_check(&server, &agent_key, r#"{"service": "api"}"#);

    // The operator's queue shows it.
    let pending = first_pending(&server);
    assert_eq!(pending["tool"], "rollback_deployment");
    let table = ok(run(&server, &["approvals", "list", "-t", "acme"]));
    assert!(
        table.contains("rollback_deployment") && table.contains("pending"),
        "{table}"
    );

    // The agent's own key cannot answer it.
    let id = pending["id"].as_str().unwrap();
    let own = common::run_as(
        &server,
        &agent_key,
        &["approvals", "approve", id, "--reason", "self-service"],
    );
    assert_eq!(own.status.code(), Some(1));
    assert!(stderr(&own).contains("403"), "{}", stderr(&own));

    // Approved by a prefix of its id.
    let out = run(
        &server,
        &[
            "approvals",
            "approve",
            "-t",
            "acme",
            &id[..13],
            "--reason",
            "CHG-981",
        ],
    );
    let shown = ok(out);
    assert!(shown.contains("approved by"), "{shown}");

    // The waiting check resubmits with the grant and is allowed.
    let done = waiting.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(0), "stderr: {}", stderr(&done));
    assert!(
        stdout(&done).contains("outcome   allow"),
        "{}",
        stdout(&done)
    );
    assert!(stderr(&done).contains("approved"), "{}", stderr(&done));

    // Approving again is refused with the reason.
    let again = run(&server, &["approvals", "approve", id, "--reason", "twice"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already approved"),
        "{}",
        stderr(&again)
    );

    // Denied requests make a waiting check exit 2.
    let waiting = waiting_check(&server, &agent_key, "{}");
    let id = first_pending(&server)["id"].as_str().unwrap().to_string();
    ok(run(
        &server,
        &["approvals", "deny", &id, "--reason", "freeze"],
    ));
    let done = waiting.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(2), "stderr: {}", stderr(&done));
    assert!(stderr(&done).contains("freeze"), "{}", stderr(&done));
}

/// The example in docs/approvals.md, run as written: held, approved by an operator, then run.
#[test]
fn the_documented_agent_example_runs() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let agent_key = acme_with_agent(&server);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/examples/approval_agent.py"
    );
    let agent = std::process::Command::new("python3")
        .arg(script)
        .env("SENTINEL_URL", &server.url)
        .env("SENTINEL_API_KEY", &agent_key)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the example");
    let id = first_pending(&server)["id"].as_str().unwrap().to_string();
    ok(run(
        &server,
        &["approvals", "approve", &id, "--reason", "SLO breach"],
    ));
    let done = agent.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(0), "stderr: {}", stderr(&done));
    assert_eq!(stdout(&done).trim(), "rolled payments-api back to v41");
}
