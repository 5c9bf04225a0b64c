//! `sentinel events tail` and `sentinel webhooks` against the real binary: events print as
//! they happen, the tail survives a server restart (resuming with `Last-Event-ID`, which the new
//! process answers with a gap), and webhooks are added, listed, tested and removed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::{acme_with_agent, ok, run, run_as, sentinel, start, start_on, stop, Server};

/// A running `sentinel events tail` and the lines it prints.
struct Tail {
    child: Child,
    lines: Receiver<String>,
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tail {
    fn start(server: &Server, args: &[&str]) -> Tail {
        let mut child = sentinel()
            .args(["events", "tail"])
            .args(args)
            .env("SENTINEL_URL", &server.url)
            .env("SENTINEL_DATA_DIR", &server.data)
            .env_remove("SENTINEL_API_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Tail { child, lines }
    }

    /// Repeats `act` until the tail prints a line containing `want` (the tail connects in the
    /// background, so the first actions may happen before it listens).
    fn expect(&self, want: &str, mut act: impl FnMut()) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            act();
            while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
                if line.contains(want) {
                    return line;
                }
            }
        }
        panic!("the tail never printed {want:?}");
    }
}

#[test]
fn tail_prints_events_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    let agent = acme_with_agent(&server);
    let check = |server: &Server| {
        ok(run_as(
            server,
            &agent,
            &["check", "--tool", "query_metrics", "-o", "json"],
        ));
    };
    let tail = Tail::start(
        &server,
        &["-t", "acme", "--types", "decision.made,kill.activated"],
    );
    let line = tail.expect("decision.made", || check(&server));
    assert!(
        line.contains("bot") && line.contains("query_metrics") && line.contains("allow"),
        "{line}"
    );

    // A graceful stop ends the stream (it does not hold shutdown open), and the tail reconnects
    // to the restarted server.
    let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
    stop(server);
    let server = start_on(&data, port);
    tail.expect("stream.gap", || {});
    tail.expect("decision.made", || check(&server));

    let json = Tail::start(&server, &["--json", "--types", "kill.activated"]);
    let line = json.expect("kill.activated", || {
        ok(run(
            &server,
            &["kill", "-t", "acme", "--tool", "x", "--reason", "drill"],
        ));
    });
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["type"], "kill.activated");
    assert_eq!(event["data"]["target"], "x");

    let bad = run(&server, &["events", "tail", "--types", "nope"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("types"),
        "a bad filter is not retried"
    );
}

#[test]
fn webhooks_add_list_test_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    ok(run(&server, &["tenants", "create", "acme"]));
    let added = ok(run(
        &server,
        &[
            "webhooks",
            "add",
            "-t",
            "acme",
            "oncall",
            "--webhook-url",
            "http://127.0.0.1:9/hook",
            "--format",
            "slack",
            "--events",
            "approval.requested,kill.activated",
        ],
    ));
    assert!(
        added.contains("signing secret (shown only now): whsec_"),
        "{added}"
    );
    let listed = ok(run(&server, &["webhooks", "list", "-t", "acme"]));
    assert!(
        listed.starts_with("NAME") && listed.contains("oncall"),
        "{listed}"
    );
    assert!(
        listed.contains("approval.requested,kill.activated"),
        "{listed}"
    );
    assert!(!listed.contains("whsec_"));

    let queued = ok(run(
        &server,
        &["webhooks", "test", "-t", "acme", "oncall", "-o", "json"],
    ));
    let queued: serde_json::Value = serde_json::from_str(&queued).unwrap();
    assert_eq!(queued["event_type"], "webhook.test");
    let log = ok(run(
        &server,
        &["webhooks", "deliveries", "-t", "acme", "oncall"],
    ));
    assert!(log.contains("webhook.test"), "{log}");

    let bad = run(
        &server,
        &[
            "webhooks",
            "add",
            "-t",
            "acme",
            "x",
            "--webhook-url",
            "ftp://x/",
        ],
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("(field: url)"));

    ok(run(
        &server,
        &["webhooks", "remove", "-t", "acme", "oncall"],
    ));
    let listed = ok(run(
        &server,
        &["webhooks", "list", "-t", "acme", "-o", "json"],
    ));
    assert_eq!(listed.trim(), "[]");
}
