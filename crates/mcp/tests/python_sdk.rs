//! Third-party software on both sides of the gateway: the official Python MCP SDK as the agent,
//! and `mcp-server-time` from PyPI as the upstream (stdio), both from the venv that
//! scripts/test.sh prepares (`SENTINEL_INTEROP_PYTHON`).

mod common;

use common::*;
use serde_json::{json, Value};

/// The venv's python, or `None` (the test is skipped with a note) outside scripts/test.sh.
fn python() -> Option<std::path::PathBuf> {
    let p = std::env::var_os("SENTINEL_INTEROP_PYTHON")?;
    let p = std::path::PathBuf::from(p);
    p.exists().then_some(p)
}

async fn run_client(env: &Env, python: &std::path::Path, script: Value) -> Vec<Value> {
    let client = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client.py");
    let out = tokio::process::Command::new(python)
        .arg(client)
        .arg(format!("{}/mcp", env.base))
        .arg(&env.agent_key)
        .arg(script.to_string())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn the_python_sdk_drives_mcp_server_time_through_the_gateway() {
    let Some(python) = python() else {
        eprintln!("skipped: SENTINEL_INTEROP_PYTHON is not set (scripts/test.sh sets it)");
        return;
    };
    let server_time = python.parent().unwrap().join("mcp-server-time");
    let env = Env::start(10).await;
    env.add_server(
        "time",
        json!({"type": "stdio", "command": server_time, "args": ["--local-timezone", "UTC"]}),
    )
    .await;
    env.add_server("fixture", stdio_fixture(json!({}))).await;
    let steps = json!([
        {"list": true},
        {"call": "time__get_current_time", "arguments": {"timezone": "Europe/Paris"}},
        {"call": "time__convert_time", "arguments": {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}},
        {"call": "fixture__send_email", "arguments": {"to": "ceo@acme.example", "body": "hi"}},
        {"call": "fixture__leak", "arguments": {}},
    ]);
    // The CEO mail is held; an operator approves it while the agent's call waits.
    let approve = async {
        let pending = env.pending().await;
        env.answer(pending[0]["id"].as_str().unwrap(), true).await;
    };
    let (lines, ()) = tokio::join!(run_client(&env, &python, steps), approve);
    assert_eq!(lines[0]["protocol"], "2025-11-25", "{lines:?}");
    let tools: Vec<&str> = lines[1]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    // convert_time is denied outright, so it is not even offered.
    assert!(
        tools.contains(&"time__get_current_time") && !tools.contains(&"time__convert_time"),
        "{tools:?}"
    );
    assert_eq!(lines[2]["is_error"], false, "{}", lines[2]);
    assert!(
        lines[2]["text"].as_str().unwrap().contains("Europe/Paris"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3]["is_error"], true);
    assert!(lines[3]["text"]
        .as_str()
        .unwrap()
        .contains("time conversions are not allowed here"));
    assert_eq!(lines[4]["is_error"], false, "{}", lines[4]);
    assert_eq!(lines[4]["text"], "sent (2 bytes)");
    assert!(
        lines[5]["text"]
            .as_str()
            .unwrap()
            .contains("[REDACTED:github-pat]"),
        "{}",
        lines[5]
    );
}
