//! `sentinel policy test DIR`: runs a bundle's `test_*` rules and reports them like `opa test`.
//! Offline by default (the same compiler and library module the server uses, in this process);
//! with `-t TENANT` the server runs them instead.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use reqwest::Method;
use serde_json::{json, Value};

use crate::bundle_dir;
use crate::client::{enc, Client, ClientArgs};

const EXAMPLES: &str = "\
Examples:
  sentinel policy test policies/sre
  sentinel policy test policies/sre -t acme      # run on the server instead

Exit status: 0 when every test passes, 1 when one fails or errors, or the bundle does not compile.";

/// Run a bundle's `test_*` rules, like `opa test` (offline unless -t is given).
///
/// Every rule whose name starts with `test_` passes when it evaluates to true. The bundle is
/// compiled with Sentinel's library module, so tests can evaluate `decision` with `with input as
/// {...}`. Results go to stdout, one line per test, then a summary line `N passed, M failed`.
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct TestArgs {
    /// The bundle directory: *.rego files and an optional data.json
    dir: PathBuf,
    /// Run the tests on the server, under this tenant's access (otherwise offline)
    #[arg(long, short)]
    tenant: Option<String>,
    /// Time limit for each test's evaluation, offline
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    timeout_ms: u64,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    let bundle = bundle_dir::load(&args.dir)?;
    let json = args.client.output == "json";
    let report = match &args.tenant {
        Some(tenant) => {
            let c = Client::new(&args.client)?;
            let path = format!("/v1/tenants/{}/policies/test", enc(tenant));
            c.send(Method::POST, &path, Some(bundle_dir::body(&bundle)?))
                .await?
        }
        None => {
            let limits = sentinel_policy::Limits {
                timeout: Duration::from_millis(args.timeout_ms),
                ..Default::default()
            };
            let compiled = match bundle_dir::compile_offline(&bundle, limits) {
                Ok(c) => c,
                Err(errors) => {
                    bundle_dir::print_errors(&args.dir, &errors);
                    bail!("{} does not compile", args.dir.display());
                }
            };
            tokio::task::spawn_blocking(move || offline_report(&compiled))
                .await
                .context("the test run panicked")?
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    let count = |k: &str| report[k].as_u64().unwrap_or(0);
    if count("passed") + count("failed") + count("errored") == 0 {
        eprintln!("warning: no test_* rules in {}", args.dir.display());
    }
    Ok(if count("failed") + count("errored") == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The same shape as the server's `TestRun`.
fn offline_report(policy: &sentinel_policy::CompiledPolicy) -> Value {
    use sentinel_policy::TestOutcome;
    let tests = policy.run_tests();
    let count = |o| tests.iter().filter(|t| t.outcome == o).count();
    json!({
        "revision": policy.revision(),
        "passed": count(TestOutcome::Pass),
        "failed": count(TestOutcome::Fail),
        "errored": count(TestOutcome::Error),
        "tests": tests,
    })
}

/// `opa test -v` style: tests grouped by file, `name: PASS (duration)`, then the summary.
fn print_report(report: &Value) {
    let tests = report["tests"].as_array().cloned().unwrap_or_default();
    let mut file = None;
    for t in &tests {
        let this = t["file"].as_str().unwrap_or_default();
        if file != Some(this) {
            if file.is_some() {
                println!();
            }
            println!("{this}:");
            file = Some(this);
        }
        let outcome = t["outcome"].as_str().unwrap_or("error").to_uppercase();
        let name = t["name"].as_str().unwrap_or_default();
        let took = duration(t["duration_us"].as_u64().unwrap_or(0));
        println!("{name}: {outcome} ({took})");
        if let Some(m) = t["message"].as_str() {
            for line in m.lines() {
                println!("  {line}");
            }
        }
    }
    if !tests.is_empty() {
        println!("{}", "-".repeat(80));
    }
    let mut summary = format!(
        "{} passed, {} failed",
        report["passed"].as_u64().unwrap_or(0),
        report["failed"].as_u64().unwrap_or(0)
    );
    let errored = report["errored"].as_u64().unwrap_or(0);
    if errored > 0 {
        summary.push_str(&format!(", {errored} errored"));
    }
    println!("{summary}");
}

fn duration(us: u64) -> String {
    match us {
        0..=999 => format!("{us}µs"),
        1_000..=999_999 => format!("{:.1}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_like_opa_test() {
        assert_eq!(super::duration(412), "412µs");
        assert_eq!(super::duration(1_260), "1.3ms");
        assert_eq!(super::duration(2_500_000), "2.50s");
    }
}
