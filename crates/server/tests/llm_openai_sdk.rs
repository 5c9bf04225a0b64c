//! The official `openai` Python SDK (pinned in crates/llm/tests/python/requirements.txt) through
//! the LLM gateway to the mock provider: chat streaming and not, models, fallback, redaction, a
//! blocked injection, budget exhaustion, a rate limit and a stream cut by the kill switch.
//!
//! Python comes from `SENTINEL_INTEROP_PYTHON` (the venv scripts/test.sh prepares).

mod common;

use std::time::Duration;

use common::llm::Gateway;
use sentinel_testkit::mock_llm::MockOptions;

#[tokio::test]
async fn the_openai_python_sdk_works_through_the_gateway() {
    let g = Gateway::start(MockOptions {
        chunk_chars: 4,
        chunk_delay: Duration::from_millis(20),
        ..Default::default()
    })
    .await;
    let python = std::env::var("SENTINEL_INTEROP_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../llm/tests/python/openai_sdk.py"
    );
    // Async, so this test's runtime keeps serving the gateway while Python calls it.
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .env("SENTINEL_URL", &g.s.base)
        .env("AGENT_KEY", &g.key)
        .env("BUDGET_KEY", &g.budget_key)
        .env("RATE_KEY", &g.rate_key)
        .env("OPERATOR_KEY", &g.operator_key)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot run {python} ({e}); run scripts/test.sh or set SENTINEL_INTEROP_PYTHON")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the openai SDK checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        9,
        "{stdout}"
    );
}
