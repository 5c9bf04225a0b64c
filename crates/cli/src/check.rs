//! `sentinel check`: send one Action to `POST /v1/check` with an agent key, print the Decision,
//! and exit with a status a shell script can branch on.

use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::Args;
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{Client, ClientArgs};
use crate::output::print;
use crate::resources::labels;

/// Exit statuses, one per outcome (1 is any error: no server, a bad key, bad flags).
const EXIT_DENY: u8 = 2;
const EXIT_APPROVAL: u8 = 3;

const EXAMPLES: &str = "\
Examples:
  sentinel keys create -t acme --role agent --agent sre-bot    # prints the agent's key once
  export SENTINEL_API_KEY=snt_…
  sentinel check --tool query_metrics --args '{\"query\": \"up\"}'
  sentinel check --tool restart_kubernetes_pod --args '{\"namespace\": \"kube-system\"}'
  sentinel check --tool send_email --provenance tool:web.fetch=untrusted -o json
  sentinel check --tool rollback_deployment --args '{\"service\": \"api\"}' --wait 10m
      # held: waits for an operator, then runs the approved action with its grant

Exit status:
  0  allow
  2  deny
  3  approval_required (the action is held for a human; with --wait: still pending)
  1  error: the decision could not be asked for (server unreachable, wrong key, bad flags)";

/// Ask whether an agent may act: exit 0 allow, 2 deny, 3 approval_required.
///
/// Sends one Action to POST /v1/check and prints the Decision: outcome, risk, reasons and
/// decision id (or the whole Decision with -o json). Needs an agent key (role `agent`): the
/// tenant and agent come from the key.
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct CheckArgs {
    /// The tool the agent wants to call (target.tool)
    #[arg(long)]
    tool: String,
    /// The server offering the tool, e.g. an MCP server (target.server)
    #[arg(long)]
    server: Option<String>,
    /// The call's arguments, a JSON object
    #[arg(long, default_value = "{}", value_name = "JSON")]
    args: String,
    /// The agent's session id (kill switches and policy can scope to it)
    #[arg(long)]
    session: Option<String>,
    /// What kind of action this is
    #[arg(long, default_value = "tool_call",
        value_parser = ["tool_call", "llm_request", "telemetry_event", "remediation"])]
    kind: String,
    /// Why the agent acts (context.purpose)
    #[arg(long)]
    purpose: Option<String>,
    /// key=value (context.labels), repeatable
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// SOURCE=TRUST: content the action derives from (context.provenance), repeatable;
    /// any trust other than `trusted` taints the session
    #[arg(long = "provenance", value_name = "SOURCE=TRUST")]
    provenance: Vec<String>,
    /// The grant of an approved request for this exact action (Sentinel-Grant header)
    #[arg(long, value_name = "TOKEN")]
    grant: Option<String>,
    /// When the action is held for approval, wait this long (e.g. 90s, 10m) for an operator;
    /// if approved, resubmit it with its grant and print that decision
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    wait: Option<std::time::Duration>,
    #[command(flatten)]
    client: ClientArgs,
}

impl CheckArgs {
    /// The Action, as `POST /v1/check` takes it.
    fn action(&self) -> anyhow::Result<Value> {
        let arguments: Value = serde_json::from_str(&self.args)
            .with_context(|| format!("--args is not JSON: {}", self.args))?;
        if !arguments.is_object() {
            return Err(anyhow!(
                "--args must be a JSON object, like '{{\"pod\": \"api-1\"}}'"
            ));
        }
        let mut target = json!({"tool": self.tool});
        if let Some(s) = &self.server {
            target["server"] = s.clone().into();
        }
        let provenance = self
            .provenance
            .iter()
            .map(|p| {
                let (source, trust) = p
                    .rsplit_once('=')
                    .ok_or_else(|| anyhow!("--provenance takes SOURCE=TRUST, got {p:?}"))?;
                Ok(json!({"source": source, "trust": trust}))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut context = json!({"provenance": provenance});
        if let Some(p) = &self.purpose {
            context["purpose"] = p.clone().into();
        }
        if let Some(l) = labels(&self.labels)? {
            context["labels"] = l;
        }
        let mut action = json!({
            "kind": self.kind, "target": target, "arguments": arguments, "context": context,
        });
        if let Some(s) = &self.session {
            action["session"] = s.clone().into();
        }
        Ok(action)
    }
}

pub async fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let action = args.action()?;
    let c = Client::new(&args.client)?;
    let headers: Vec<(&str, &str)> = args
        .grant
        .iter()
        .map(|g| ("sentinel-grant", g.as_str()))
        .collect();
    let mut refused = false;
    let mut d = c
        .send_with(Method::POST, "/v1/check", Some(action.clone()), &headers)
        .await?;
    if let (Some("approval_required"), Some(wait)) = (d["outcome"].as_str(), args.wait) {
        match wait_for_grant(&c, &d, wait).await? {
            Waited::Granted(granted) => {
                d = c
                    .send_with(
                        Method::POST,
                        "/v1/check",
                        Some(action),
                        &[("sentinel-grant", &granted)],
                    )
                    .await?;
            }
            // Denied, expired or cancelled: the action must not run.
            Waited::Refused => refused = true,
            Waited::Pending => {}
        }
    }
    if c.json {
        print(&d, &[], true);
    } else {
        print_decision(&d);
    }
    Ok(match d["outcome"].as_str() {
        _ if refused => ExitCode::from(EXIT_DENY),
        Some("allow") => ExitCode::SUCCESS,
        Some("approval_required") => ExitCode::from(EXIT_APPROVAL),
        _ => ExitCode::from(EXIT_DENY),
    })
}

/// A Decision as `field  value` lines; each reason on its own line.
fn print_decision(d: &Value) {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
    println!("outcome   {}", s(&d["outcome"]));
    println!("risk      {}", s(&d["risk"]));
    let reasons: Vec<String> = d["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    if reasons.is_empty() {
        println!("reasons   -");
    }
    // One reason per line, continuation lines (a compiler message, say) indented under it.
    for (i, line) in reasons.iter().flat_map(|r| r.lines()).enumerate() {
        let label = if i == 0 { "reasons" } else { "" };
        println!("{label:<10}{line}");
    }
    if !d["approval_id"].is_null() {
        println!("approval  {}", s(&d["approval_id"]));
    }
    let redact = &d["obligations"]["redact"];
    if redact.as_array().is_some_and(|r| !r.is_empty()) {
        let paths: Vec<String> = redact.as_array().into_iter().flatten().map(s).collect();
        println!("redact    {}", paths.join(", "));
    }
    let q = &d["quota"];
    if !q.is_null() {
        let mut line = format!(
            "{}: {} of {} left per {} s",
            s(&q["scope"]),
            q["remaining"],
            q["limit"],
            q["window_seconds"]
        );
        if let Some(retry) = q["retry_after_seconds"].as_u64() {
            line.push_str(&format!("; retry in {retry} s"));
        }
        println!("quota     {line}");
    }
    if !d["policy"].is_null() {
        println!(
            "policy    {} {}",
            s(&d["policy"]["bundle"]),
            s(&d["policy"]["revision"])
        );
    }
    println!("decision  {}", s(&d["decision_id"]));
}

enum Waited {
    Granted(String),
    Refused,
    Pending,
}

/// Long-polls the held decision's request until it is answered or `wait` runs out.
async fn wait_for_grant(
    c: &Client,
    held: &Value,
    wait: std::time::Duration,
) -> anyhow::Result<Waited> {
    let id = held["approval_id"]
        .as_str()
        .ok_or_else(|| anyhow!("the held decision has no approval id"))?;
    eprintln!(
        "held for approval {id}; waiting up to {} s for an operator \
         (`sentinel approvals approve -t TENANT {id} --reason …`)",
        wait.as_secs()
    );
    let deadline = std::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let a = c
            .get(&format!(
                "/v1/approvals/{id}?wait={}s",
                left.as_secs().clamp(1, 60)
            ))
            .await?;
        match a["status"].as_str() {
            Some("approved") => {
                let token = a["grant"]["token"].as_str().ok_or_else(|| {
                    anyhow!("approval {id} is approved but its grant was already used")
                })?;
                eprintln!("approved: {}", a["resolution"].as_str().unwrap_or_default());
                return Ok(Waited::Granted(token.to_string()));
            }
            Some("pending") if left.is_zero() => {
                eprintln!(
                    "approval {id} is still pending after {} s; nothing was allowed",
                    wait.as_secs()
                );
                return Ok(Waited::Pending);
            }
            Some("pending") => {}
            _ => {
                eprintln!(
                    "approval {id} is {}: {}",
                    a["status"].as_str().unwrap_or("unknown"),
                    a["resolution"].as_str().unwrap_or_default()
                );
                return Ok(Waited::Refused);
            }
        }
    }
}

/// `90s`, `10m`, `1h` or seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    sentinel_core::validate::duration(s)
        .ok_or_else(|| format!("{s:?} is not a duration like 90s, 10m or 1h"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        check: CheckArgs,
    }

    #[test]
    fn flags_become_an_action() {
        let cli = Cli::parse_from([
            "check",
            "--tool",
            "send_email",
            "--server",
            "mail",
            "--args",
            r#"{"to": "a@b.c"}"#,
            "--session",
            "s-1",
            "--provenance",
            "tool:web.fetch=untrusted",
            "--label",
            "team=sre",
        ]);
        let a = cli.check.action().unwrap();
        assert_eq!(a["target"], json!({"tool": "send_email", "server": "mail"}));
        assert_eq!(a["arguments"]["to"], "a@b.c");
        assert_eq!(a["session"], "s-1");
        assert_eq!(a["kind"], "tool_call");
        assert_eq!(
            a["context"]["provenance"],
            json!([{"source": "tool:web.fetch", "trust": "untrusted"}])
        );
        assert_eq!(a["context"]["labels"]["team"], "sre");
    }

    #[test]
    fn arguments_must_be_an_object() {
        let cli = Cli::parse_from(["check", "--tool", "t", "--args", "[1]"]);
        assert!(cli.check.action().is_err());
    }
}
