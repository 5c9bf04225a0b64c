//! `sentinel decisions`: the tenant's decision log, newest first (OPA decision-log shape).

use clap::Args;
use serde_json::{json, Value};

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;

const COLUMNS: &[&str] = &[
    "timestamp",
    "agent",
    "tool",
    "outcome",
    "reasons",
    "shadow",
    "duration_us",
    "decision_id",
];

const EXAMPLES: &str = "\
Examples:
  sentinel decisions -t acme --limit 20
  sentinel decisions -t acme -o json | jq '.[0].input'   # the input document policy saw
  sentinel decisions -t acme --id 0193f1c2-…  -o json      # the decision a caller was given

The SHADOW column is what a shadowed revision would have decided (sentinel policy shadow).
Needs a key that may read the audit trail (admin, operator or auditor).";

/// Show a tenant's recorded decisions, newest first.
///
/// Every decision is recorded with its input document, result, policy revision and duration;
/// -o json prints the records whole.
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct DecisionsArgs {
    /// The tenant (slug or id)
    #[arg(long, short)]
    tenant: String,
    /// How many of the newest decisions (1-1000)
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Only this decision (the `decision_id` its caller was given)
    #[arg(long)]
    id: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn decisions(args: DecisionsArgs) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let v = match &args.id {
        Some(id) => {
            let one = c
                .get(&format!(
                    "/v1/tenants/{}/decisions/{}",
                    enc(&args.tenant),
                    enc(id)
                ))
                .await?;
            if c.json {
                print(&one, &[], true);
                return Ok(());
            }
            Value::Array(vec![one])
        }
        None => {
            c.get(&format!(
                "/v1/tenants/{}/decisions?limit={}",
                enc(&args.tenant),
                args.limit
            ))
            .await?
        }
    };
    if c.json {
        print(&v, &[], true);
        return Ok(());
    }
    let rows: Vec<Value> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            json!({
                "timestamp": r["timestamp"], "agent": r["agent"], "tool": r["tool"],
                "outcome": r["outcome"], "reasons": r["result"]["reasons"],
                "shadow": r["result"]["shadow"]["outcome"], "duration_us": r["duration_us"],
                "decision_id": r["decision_id"],
            })
        })
        .collect();
    if rows.is_empty() {
        eprintln!("no decisions recorded for {}", args.tenant);
        return Ok(());
    }
    print(&Value::Array(rows), COLUMNS, false);
    Ok(())
}
