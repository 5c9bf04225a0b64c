//! The kill switch from the command line: `sentinel kill`, `sentinel restore`, `sentinel kills`.

use clap::{ArgGroup, Args};
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;

const KILL_COLUMNS: &[&str] = &["id", "scope", "target", "reason", "created_at"];
const RESTORED_COLUMNS: &[&str] = &["id", "scope", "target", "reason", "lifted_at"];

const KILL_HELP: &str = "\
Examples:
  sentinel kill -t acme --agent sre-bot --reason \"deleting pods in a loop\"
  sentinel kill -t acme --tool rollback_deployment --reason \"bad release tooling\"
  sentinel kill -t acme --session 7f3e --reason \"prompt injection suspected\"
  sentinel kill -t acme --whole-tenant --reason \"incident 4711\"

Prints the kill; lift it with `sentinel restore -t TENANT KILL_ID`.";
const RESTORE_HELP: &str = "\
Example:
  sentinel restore -t acme 0192a8c4      # the kill's id, or a unique prefix of it";
const KILLS_HELP: &str = "\
Example:
  sentinel kills -t acme";

/// Stop an agent, a tool, a session or a whole tenant at once.
///
/// The very next decision in scope is denied with the reason given; an agent-scoped kill also
/// marks the agent `killed` in the registry. Kills survive restarts until restored.
#[derive(Args, Debug)]
#[command(after_help = KILL_HELP, group(ArgGroup::new("scope").required(true).args(["agent", "tool", "session", "whole_tenant"])))]
pub struct KillArgs {
    /// The tenant (slug or id)
    #[arg(long, short)]
    tenant: String,
    /// Stop this agent (by name)
    #[arg(long)]
    agent: Option<String>,
    /// Stop every call of this tool (by name)
    #[arg(long)]
    tool: Option<String>,
    /// Stop this session (by id)
    #[arg(long)]
    session: Option<String>,
    /// Stop every action in the tenant
    #[arg(long)]
    whole_tenant: bool,
    /// Why: shown in every decision the kill denies
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    client: ClientArgs,
}

/// Lift a kill switch; decisions in its scope go back to policy.
#[derive(Args, Debug)]
#[command(after_help = RESTORE_HELP)]
pub struct RestoreArgs {
    /// The tenant (slug or id)
    #[arg(long, short)]
    tenant: String,
    /// The kill's id (or a unique prefix), from `sentinel kills`
    kill_id: String,
    #[command(flatten)]
    client: ClientArgs,
}

/// List a tenant's active kill switches.
#[derive(Args, Debug)]
#[command(after_help = KILLS_HELP)]
pub struct KillsArgs {
    /// The tenant (slug or id)
    #[arg(long, short)]
    tenant: String,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn kill(args: KillArgs) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let (scope, target) = match (args.agent, args.tool, args.session) {
        (Some(a), _, _) => ("agent", Some(a)),
        (_, Some(t), _) => ("tool", Some(t)),
        (_, _, Some(s)) => ("session", Some(s)),
        _ => ("tenant", None),
    };
    let path = format!("/v1/tenants/{}/kill", enc(&args.tenant));
    let body = json!({"scope": scope, "target": target, "reason": args.reason});
    let k = c.send(Method::POST, &path, Some(body)).await?;
    print(&k, KILL_COLUMNS, c.json);
    eprintln!(
        "kill switch active ({scope} {}): the next decision in scope is denied; \
         lift it with `sentinel restore -t {} {}`",
        k["target"].as_str().unwrap_or_default(),
        args.tenant,
        k["id"].as_str().unwrap_or_default()
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let kills = active(&c, &args.tenant).await?;
    let ids: Vec<&str> = kills
        .iter()
        .filter_map(|k| k["id"].as_str())
        .filter(|id| id.starts_with(&args.kill_id))
        .collect();
    let id = match ids.as_slice() {
        [one] => one.to_string(),
        [] => anyhow::bail!(
            "no active kill of {} has id {:?} (see `sentinel kills -t {}`)",
            args.tenant,
            args.kill_id,
            args.tenant
        ),
        _ => anyhow::bail!("{:?} matches several kills; give more of it", args.kill_id),
    };
    let path = format!("/v1/tenants/{}/restore", enc(&args.tenant));
    let k = c
        .send(Method::POST, &path, Some(json!({"kill_id": id})))
        .await?;
    print(&k, RESTORED_COLUMNS, c.json);
    eprintln!(
        "restored: the kill of {} {} is lifted",
        k["scope"].as_str().unwrap_or_default(),
        k["target"].as_str().unwrap_or_default()
    );
    Ok(())
}

pub async fn kills(args: KillsArgs) -> anyhow::Result<()> {
    let c = Client::new(&args.client)?;
    let kills = active(&c, &args.tenant).await?;
    if kills.is_empty() && !c.json {
        eprintln!("no active kill switches in {}", args.tenant);
        return Ok(());
    }
    print(&Value::Array(kills), KILL_COLUMNS, c.json);
    Ok(())
}

async fn active(c: &Client, tenant: &str) -> anyhow::Result<Vec<Value>> {
    let v = c.get(&format!("/v1/tenants/{}/kills", enc(tenant))).await?;
    Ok(v.as_array().cloned().unwrap_or_default())
}
