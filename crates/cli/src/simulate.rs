//! `sentinel policy simulate`: replays a tenant's recorded decisions under a candidate bundle
//! (a directory not yet pushed, or a stored revision) and prints what would change.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;
use crate::{bundle_dir, policy};

const EXAMPLES: &str = "\
Examples:
  sentinel policy simulate ./candidate -t acme --last 500
  sentinel policy simulate --revision sha256:3f1c -t acme

Prints the outcome counts before and after, every decision that would change, and the
candidate's deny/approval/redact rules that no replayed input triggered.";

/// Replay recorded decisions under a candidate policy, before it goes live.
///
/// The newest recorded decisions that reached policy are evaluated again, with the very input
/// document they had, under the candidate. Nothing is enforced or stored.
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES, group(ArgGroup::new("candidate").required(true).args(["dir", "revision"])))]
pub struct SimulateArgs {
    /// A bundle directory to simulate without pushing it
    dir: Option<PathBuf>,
    /// A stored revision to simulate instead (sha256:…, or a unique prefix)
    #[arg(long)]
    revision: Option<String>,
    /// The tenant (slug or id)
    #[arg(long, short)]
    tenant: String,
    /// How many of the newest recorded decisions to replay (1-10000)
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    last: u32,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let mut body = json!({"last": args.last});
    if let Some(dir) = &args.dir {
        body["bundle"] = bundle_dir::body(&bundle_dir::load(dir)?)?;
    }
    if let Some(r) = &args.revision {
        body["revision"] = policy::resolve_revision(&c, &args.tenant, r).await?.into();
    }
    let path = format!("/v1/tenants/{}/policies/simulate", enc(&args.tenant));
    let sim = c.send(Method::POST, &path, Some(body)).await?;
    if c.json {
        print(&sim, &[], true);
    } else {
        print_simulation(&sim);
    }
    Ok(())
}

fn print_simulation(sim: &Value) {
    println!(
        "candidate {} replayed against {} recorded decision(s)",
        sim["candidate"].as_str().unwrap_or("?"),
        sim["evaluated"]
    );
    println!();
    let outcomes = ["allow", "deny", "approval_required"];
    let counts: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            let n = |side: &str| sim[side][*o].as_u64().unwrap_or(0);
            json!({"outcome": o, "before": n("before"), "after": n("after")})
        })
        .collect();
    print(
        &Value::Array(counts),
        &["outcome", "before", "after"],
        false,
    );

    let changed = sim["changed"].as_array().cloned().unwrap_or_default();
    println!();
    if changed.is_empty() {
        println!("no decision would change");
    } else {
        println!("{} decision(s) would change:", changed.len());
        print(
            &Value::Array(changed),
            &[
                "decision_id",
                "agent",
                "tool",
                "before",
                "after",
                "reasons_after",
            ],
            false,
        );
    }

    let never = sim["rules_never_fired"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    println!();
    if never.is_empty() {
        println!("every deny/approval/redact rule fired at least once");
    } else {
        println!("rules never fired ({}):", never.len());
        for r in never {
            println!(
                "  {}:{}: {}",
                r["file"].as_str().unwrap_or("?"),
                r["line"],
                r["head"].as_str().unwrap_or_default()
            );
        }
    }
}
