//! `sentinel secrets` against the real binary: a value set from stdin, an environment variable
//! or a file is stored, listed by name only, replaced and deleted; a value is never printed.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::*;

#[test]
fn secrets_set_from_stdin_env_and_file_list_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    ok(run(&server, &["tenants", "create", "acme"]));

    let mut child = sentinel()
        .args([
            "secrets",
            "set",
            "-t",
            "acme",
            "github_token",
            "--description",
            "CI bot",
        ])
        .env("SENTINEL_URL", &server.url)
        .env("SENTINEL_DATA_DIR", &server.data)
        .env_remove("SENTINEL_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ghp_from_stdin\n")
        .unwrap();
    let set = child.wait_with_output().unwrap();
    let out = ok(set);
    assert!(!out.contains("ghp_from_stdin"), "{out}");

    let set = sentinel()
        .args([
            "secrets",
            "set",
            "-t",
            "acme",
            "github_token",
            "--from-env",
            "TOKEN_VAR",
            "-o",
            "json",
        ])
        .env("SENTINEL_URL", &server.url)
        .env("SENTINEL_DATA_DIR", &server.data)
        .env("TOKEN_VAR", "ghp_from_env")
        .output()
        .unwrap();
    let meta: serde_json::Value = serde_json::from_str(&ok(set)).unwrap();
    assert_eq!(meta["version"], 2);
    assert_eq!(meta["description"], "CI bot");

    let file = dir.path().join("key.pem");
    std::fs::write(&file, "-----BEGIN KEY-----\nabc\n").unwrap();
    ok(run(
        &server,
        &[
            "secrets",
            "set",
            "-t",
            "acme",
            "pem",
            "--from-file",
            file.to_str().unwrap(),
        ],
    ));

    let listed = ok(run(&server, &["secrets", "list", "-t", "acme"]));
    assert!(
        listed.starts_with("NAME") && listed.contains("github_token") && listed.contains("pem"),
        "{listed}"
    );
    assert!(
        !listed.contains("ghp_") && !listed.contains("BEGIN"),
        "{listed}"
    );

    let missing = run(
        &server,
        &[
            "secrets",
            "set",
            "-t",
            "acme",
            "x",
            "--from-env",
            "NOT_SET_ANYWHERE",
        ],
    );
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("NOT_SET_ANYWHERE"),
        "{}",
        stderr(&missing)
    );

    ok(run(&server, &["secrets", "delete", "-t", "acme", "pem"]));
    let listed = ok(run(
        &server,
        &["secrets", "list", "-t", "acme", "-o", "json"],
    ));
    let names: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(&listed)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [serde_json::json!("github_token")]);
    stop(server);
}
