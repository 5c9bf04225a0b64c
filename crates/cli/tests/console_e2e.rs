//! The admin console end to end: the real `sentinel serve` (this build's binary, a temp data
//! directory, a free port) driven by `ui/e2e/console.e2e.mjs` in Debian's headless Chromium
//! through playwright-core. The script covers the flows (sign in; approve a held check
//! live and see the resubmission allowed; kill an agent and see its next check denied; an audit
//! entry verified in the browser) and prints one line per step.
//!
//! It needs node, `ui/node_modules` (`npm ci` in ui/) and `/usr/bin/chromium`; scripts/test.sh
//! installs them and sets `SENTINEL_REQUIRE_CONSOLE_E2E=1`, so there a missing piece fails the
//! test. A bare `cargo test` without them skips it and says why.
//! `SENTINEL_CONSOLE_SCREENSHOTS=DIR` saves the screenshots docs/console.md shows.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{acme_with_agent, start};

fn missing_tools(ui: &Path, chromium: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node (Node.js 20)".to_string());
    }
    if !ui.join("node_modules/playwright-core").is_dir() {
        missing.push("ui/node_modules (run `npm ci` in ui/)".to_string());
    }
    if !chromium.exists() {
        missing.push(format!("{} (apt-get install chromium)", chromium.display()));
    }
    missing
}

#[test]
fn the_console_drives_approvals_kills_and_audit_in_a_real_browser() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui");
    let chromium = PathBuf::from(std::env::var("CHROMIUM").unwrap_or("/usr/bin/chromium".into()));
    let missing = missing_tools(&ui, &chromium);
    if !missing.is_empty() {
        let why = format!("console e2e needs: {}", missing.join(", "));
        assert!(
            std::env::var_os("SENTINEL_REQUIRE_CONSOLE_E2E").is_none(),
            "{why}"
        );
        eprintln!("skipped: {why}");
        return;
    }

    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let agent_key = acme_with_agent(&server);
    let admin_key = std::fs::read_to_string(data.path().join("admin.key")).unwrap();
    let auditor: serde_json::Value = serde_json::from_str(&common::ok(common::run(
        &server,
        &[
            "keys", "create", "-t", "acme", "--role", "auditor", "-o", "json",
        ],
    )))
    .unwrap();

    let mut node = Command::new("node");
    node.arg("e2e/console.e2e.mjs")
        .current_dir(&ui)
        .env("SENTINEL_URL", &server.url)
        .env("SENTINEL_ADMIN_KEY", admin_key.trim())
        .env("SENTINEL_AGENT_KEY", &agent_key)
        .env("SENTINEL_AUDITOR_KEY", auditor["secret"].as_str().unwrap())
        .env("CHROMIUM", &chromium)
        .env_remove("SCREENSHOTS");
    if let Some(dir) = std::env::var_os("SENTINEL_CONSOLE_SCREENSHOTS") {
        node.env("SCREENSHOTS", dir);
    }
    let out = node.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "console e2e failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
