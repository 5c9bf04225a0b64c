//! `sentinel approvals`: the operator's queue of held actions, and answering them.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;

const COLUMNS: &[&str] = &[
    "id",
    "status",
    "agent",
    "tool",
    "risk",
    "reasons",
    "expires_at",
];

const HELP: &str = "\
Examples:
  sentinel approvals list -t acme                      # pending requests, oldest first
  sentinel approvals list -t acme --status approved --agent sre-bot
  sentinel approvals show 0192b1c3-…                   # the full action, reasons and votes
  sentinel approvals approve -t acme 0192b1 --reason \"change ticket CHG-981\"
  sentinel approvals deny -t acme 0192b1 --reason \"not during the freeze\"

An id may be shortened to a unique prefix when -t names the tenant. The agent that asked is
never allowed to answer: use an operator (or admin) key.";

#[derive(Subcommand, Debug)]
#[command(after_help = HELP)]
pub enum ApprovalCommand {
    /// List a tenant's approval requests (pending ones by default).
    List(ListArgs),
    /// Show one request: the action, why it was held, votes and status.
    Show(ShowArgs),
    /// Approve a pending request; the agent then gets a single-use grant.
    Approve(AnswerArgs),
    /// Deny a pending request.
    Deny(AnswerArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// The tenant (slug or id)
    #[arg(long, short)]
    tenant: String,
    /// pending, approved, denied, expired, cancelled, or `all`
    #[arg(long, default_value = "pending")]
    status: String,
    #[arg(long)]
    agent: Option<String>,
    #[arg(long)]
    tool: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The request's id (or a unique prefix, with -t)
    id: String,
    /// The tenant, to find the request by a prefix of its id
    #[arg(long, short)]
    tenant: Option<String>,
    /// Wait up to this long (e.g. 30s) for the request to be answered
    #[arg(long)]
    wait: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Args, Debug)]
pub struct AnswerArgs {
    /// The request's id (or a unique prefix, with -t)
    id: String,
    /// The tenant, to find the request by a prefix of its id
    #[arg(long, short)]
    tenant: Option<String>,
    /// Why: kept in the request and the audit log
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn approvals(command: ApprovalCommand) -> anyhow::Result<()> {
    match command {
        ApprovalCommand::List(a) => list(a).await,
        ApprovalCommand::Show(a) => show(a).await,
        ApprovalCommand::Approve(a) => answer(a, true).await,
        ApprovalCommand::Deny(a) => answer(a, false).await,
    }
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let mut query = vec![];
    if args.status != "all" {
        query.push(format!("status={}", enc(&args.status)));
    }
    if let Some(a) = &args.agent {
        query.push(format!("agent={}", enc(a)));
    }
    if let Some(t) = &args.tool {
        query.push(format!("tool={}", enc(t)));
    }
    let items = all_pages(&c, &args.tenant, &query.join("&")).await?;
    if items.is_empty() && !c.json {
        eprintln!("no {} approval requests in {}", args.status, args.tenant);
        return Ok(());
    }
    print(&Value::Array(items), COLUMNS, c.json);
    Ok(())
}

async fn show(args: ShowArgs) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let id = resolve(&c, &args.id, args.tenant.as_deref()).await?;
    let wait = args
        .wait
        .map(|w| format!("?wait={}", enc(&w)))
        .unwrap_or_default();
    let a = c.get(&format!("/v1/approvals/{id}{wait}")).await?;
    if c.json {
        print(&a, &[], true);
        return Ok(());
    }
    print_approval(&a);
    Ok(())
}

async fn answer(args: AnswerArgs, granted: bool) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let id = resolve(&c, &args.id, args.tenant.as_deref()).await?;
    let a = c
        .send(
            Method::POST,
            &format!("/v1/approvals/{id}/decision"),
            Some(json!({"granted": granted, "reason": args.reason})),
        )
        .await?;
    if c.json {
        print(&a, &[], true);
        return Ok(());
    }
    let status = a["status"].as_str().unwrap_or_default();
    match status {
        "approved" => eprintln!(
            "approved: {} may now run {} once, with its grant",
            a["agent"].as_str().unwrap_or_default(),
            a["tool"].as_str().unwrap_or_default()
        ),
        "pending" => eprintln!(
            "recorded: {} of {} approvals; waiting for another operator",
            a["votes"]
                .as_array()
                .map_or(0, |v| v.iter().filter(|v| v["granted"] == true).count()),
            a["required_approvals"]
        ),
        other => eprintln!("{other}"),
    }
    print_approval(&a);
    Ok(())
}

/// A full id as given, or the one pending request of `tenant` whose id starts with `prefix`.
async fn resolve(c: &Client, prefix: &str, tenant: Option<&str>) -> anyhow::Result<String> {
    if uuid::Uuid::try_parse(prefix).is_ok() {
        return Ok(prefix.to_string());
    }
    let Some(tenant) = tenant else {
        anyhow::bail!("{prefix:?} is not a full id; give the tenant with -t to match a prefix");
    };
    let items = all_pages(c, tenant, "").await?;
    let ids: Vec<&str> = items
        .iter()
        .filter_map(|a| a["id"].as_str())
        .filter(|id| id.starts_with(prefix))
        .collect();
    match ids.as_slice() {
        [one] => Ok(one.to_string()),
        [] => anyhow::bail!("no approval request of {tenant} has an id starting {prefix:?}"),
        _ => anyhow::bail!("{prefix:?} matches several requests; give more of it"),
    }
}

async fn all_pages(c: &Client, tenant: &str, query: &str) -> anyhow::Result<Vec<Value>> {
    let mut items = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/tenants/{}/approvals?limit=500", enc(tenant));
        if !query.is_empty() {
            path = format!("{path}&{query}");
        }
        if let Some(cur) = &cursor {
            path = format!("{path}&cursor={}", enc(cur));
        }
        let page = c.get(&path).await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return Ok(items),
        }
    }
}

/// A request as `field  value` lines.
fn print_approval(a: &Value) {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    println!("id        {}", s(&a["id"]));
    println!("status    {}", s(&a["status"]));
    println!("agent     {}", s(&a["agent"]));
    println!("tool      {}", s(&a["tool"]));
    println!("risk      {}", s(&a["risk"]));
    println!("arguments {}", a["action"]["arguments"]);
    for (i, r) in a["reasons"].as_array().into_iter().flatten().enumerate() {
        println!("{:<10}{}", if i == 0 { "reasons" } else { "" }, s(r));
    }
    println!(
        "approvals {} of {} needed",
        a["votes"]
            .as_array()
            .map_or(0, |v| v.iter().filter(|v| v["granted"] == true).count()),
        s(&a["required_approvals"])
    );
    for v in a["votes"].as_array().into_iter().flatten() {
        let answer = if v["granted"] == true {
            "approved"
        } else {
            "denied"
        };
        println!(
            "          {answer} by {} at {}: {}",
            s(&v["key_name"]),
            s(&v["at"]),
            s(&v["reason"])
        );
    }
    println!("expires   {}", s(&a["expires_at"]));
    if !a["resolution"].is_null() {
        println!("outcome   {}", s(&a["resolution"]));
    }
    if !a["grant"].is_null() {
        println!("grant     {}", s(&a["grant"]["token"]));
    }
}
