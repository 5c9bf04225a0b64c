//! The real `sentinel` binary: first start, the resource commands against it, graceful shutdown
//! on SIGTERM, and a second start that reuses the data directory.

mod common;

use common::{ok, run, sentinel, start, stop};

#[test]
fn first_start_commands_shutdown_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);

    let key = std::fs::read_to_string(data.join("admin.key")).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data.join("admin.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the admin key file is private");

    ok(run(
        &server,
        &["tenants", "create", "acme", "--display-name", "Acme Corp"],
    ));
    ok(run(
        &server,
        &[
            "agents",
            "create",
            "-t",
            "acme",
            "sre-bot",
            "--framework",
            "langgraph",
            "--label",
            "team=sre",
        ],
    ));
    ok(run(
        &server,
        &[
            "tools",
            "create",
            "-t",
            "acme",
            "rollback_deployment",
            "--server",
            "k8s-mcp",
            "--risk",
            "critical",
        ],
    ));
    let table = ok(run(&server, &["agents", "list", "-t", "acme"]));
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table.contains("sre-bot") && table.contains("team=sre"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(run(
        &server,
        &["tools", "list", "-t", "acme", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(json["items"][0]["risk"], "critical");
    let created = ok(run(
        &server,
        &[
            "keys", "create", "-t", "acme", "--role", "agent", "--agent", "sre-bot",
        ],
    ));
    assert!(
        created.contains("secret (shown only now): snt_"),
        "{created}"
    );

    let denied = run(&server, &["tenants", "create", "Bad Slug"]);
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("422"),
        "errors name the status and field"
    );

    let out = stop(server);
    assert!(out.status.success(), "clean exit on SIGTERM");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(key.trim()),
        "the first start prints the admin key once"
    );
    let logs = String::from_utf8_lossy(&out.stderr);
    let json_line = logs
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("JSON log lines");
    serde_json::from_str::<serde_json::Value>(json_line).expect("logs are JSON");
    assert!(!logs.contains(key.trim()), "secrets never reach logs");

    // Second start: same data, same key, nothing printed.
    let server = start(&data);
    let who = ok(run(&server, &["whoami"]));
    assert!(who.contains("admin"), "{who}");
    let listed = ok(run(&server, &["tenants", "list"]));
    assert!(listed.contains("acme"));
    let out = stop(server);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("snt_"),
        "later starts do not print keys"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("admin.key")).unwrap(),
        key
    );
}

#[test]
fn help_explains_and_missing_servers_are_reported_clearly() {
    let help = ok(sentinel().arg("--help").output().unwrap());
    for word in ["serve", "init", "tenants", "agents", "tools", "keys"] {
        assert!(help.contains(word), "{help}");
    }
    let out = sentinel()
        .args([
            "tenants",
            "list",
            "--url",
            "http://127.0.0.1:9",
            "--api-key",
            "snt_x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is `sentinel serve` running?"));
}
