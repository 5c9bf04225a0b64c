//! `sentinel policy`: a tenant's Rego bundle from a directory to live traffic — validate, test,
//! push, activate, roll back, list, simulate and shadow. Revisions are immutable and named by
//! content hash (`sha256:…`); wherever one is asked for, a unique prefix of it will do.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;
use crate::{bundle_dir, policy_test, simulate};

const ACTIVATION_COLUMNS: &[&str] = &["revision", "activated_by", "activated_at"];

const VALIDATE_HELP: &str = "\
Example:
  sentinel policy validate policies/sre -t acme

Errors are printed as DIR/file:line:col: message. Exit status 1 when the bundle is invalid.";
const PUSH_HELP: &str = "\
Examples:
  sentinel policy push policies/sre -t acme              # store only
  sentinel policy push policies/sre -t acme --activate   # store and enforce now";
const ACTIVATE_HELP: &str = "\
Example:
  sentinel policy activate sha256:3f1c -t acme   # a unique prefix is enough";
const ROLLBACK_HELP: &str = "\
Example:
  sentinel policy rollback -t acme";
const LIST_HELP: &str = "\
Example:
  sentinel policy list -t acme";
const SHADOW_HELP: &str = "\
Examples:
  sentinel policy shadow sha256:3f1c -t acme   # start shadowing
  sentinel decisions -t acme -o json           # result.shadow holds what it would have decided
  sentinel policy shadow --off -t acme         # stop";

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Validate a bundle directory on the server: parse, compile, dry run; nothing is stored.
    #[command(after_help = VALIDATE_HELP)]
    Validate {
        /// The bundle directory: *.rego files and an optional data.json
        dir: PathBuf,
        /// The tenant (slug or id)
        #[arg(long, short)]
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    Test(policy_test::TestArgs),
    /// Store a bundle directory as a new revision; --activate also makes it the active one.
    ///
    /// Pushing the same content again gives the same revision. Without --activate, the
    /// revision can be simulated or shadowed before it is enforced.
    #[command(after_help = PUSH_HELP)]
    Push {
        /// The bundle directory: *.rego files and an optional data.json
        dir: PathBuf,
        /// The tenant (slug or id)
        #[arg(long, short)]
        tenant: String,
        /// Enforce the revision at once (the next decision uses it)
        #[arg(long)]
        activate: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Make a stored revision the active one; the next decision uses it, no restart.
    #[command(after_help = ACTIVATE_HELP)]
    Activate {
        /// The revision (sha256:…, or a unique prefix)
        revision: String,
        /// The tenant (slug or id)
        #[arg(long, short)]
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Re-activate the revision that was active before the current one.
    #[command(after_help = ROLLBACK_HELP)]
    Rollback {
        /// The tenant (slug or id)
        #[arg(long, short)]
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List a tenant's stored revisions, newest first, with the active and shadowed ones marked.
    #[command(after_help = LIST_HELP)]
    List {
        /// The tenant (slug or id)
        #[arg(long, short)]
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    Simulate(simulate::SimulateArgs),
    /// Evaluate a stored revision beside the active one on live traffic, recorded, not enforced.
    #[command(after_help = SHADOW_HELP)]
    Shadow {
        /// The revision to shadow (sha256:…, or a unique prefix)
        #[arg(required_unless_present = "off")]
        revision: Option<String>,
        /// Stop shadowing
        #[arg(long, conflicts_with = "revision")]
        off: bool,
        /// The tenant (slug or id)
        #[arg(long, short)]
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub async fn policy(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Validate {
            dir,
            tenant,
            client,
        } => return validate(dir, tenant, client).await,
        PolicyCommand::Test(args) => return policy_test::run(args).await,
        PolicyCommand::Simulate(args) => simulate::run(args).await?,
        PolicyCommand::Push {
            dir,
            tenant,
            activate,
            client,
        } => {
            let c = Client::new(&client)?;
            let bundle = bundle_dir::load(&dir)?;
            let path = format!(
                "/v1/tenants/{}/policies{}",
                enc(&tenant),
                if activate { "?activate=true" } else { "" }
            );
            let v = c
                .send(Method::POST, &path, Some(bundle_dir::body(&bundle)?))
                .await?;
            let revision = v["revision"].as_str().unwrap_or_default();
            if c.json {
                print(
                    &json!({"revision": revision, "created_at": v["created_at"], "active": activate}),
                    &[],
                    true,
                );
            } else {
                println!("{revision}");
            }
            eprintln!(
                "pushed {} module(s) from {} as {revision}{}",
                bundle.modules.len(),
                dir.display(),
                if activate {
                    "; it is now active"
                } else {
                    "; not active (sentinel policy activate to enforce it)"
                }
            );
        }
        PolicyCommand::Activate {
            revision,
            tenant,
            client,
        } => {
            let c = Client::new(&client)?;
            let revision = resolve_revision(&c, &tenant, &revision).await?;
            let path = format!(
                "/v1/tenants/{}/policies/{}/activate",
                enc(&tenant),
                enc(&revision)
            );
            let v = c.send(Method::POST, &path, Some(json!({}))).await?;
            print(&v, ACTIVATION_COLUMNS, c.json);
            eprintln!("{revision} is active for {tenant}");
        }
        PolicyCommand::Rollback { tenant, client } => {
            let c = Client::new(&client)?;
            let path = format!("/v1/tenants/{}/policies/rollback", enc(&tenant));
            let v = c.send(Method::POST, &path, Some(json!({}))).await?;
            print(&v, ACTIVATION_COLUMNS, c.json);
            eprintln!(
                "rolled back: {} is active for {tenant}",
                v["revision"].as_str().unwrap_or("?")
            );
        }
        PolicyCommand::List { tenant, client } => {
            let c = Client::new(&client)?;
            let v = c
                .get(&format!("/v1/tenants/{}/policies", enc(&tenant)))
                .await?;
            if c.json {
                print(&v, &[], true);
            } else {
                print(
                    &revision_rows(&v),
                    &["revision", "status", "last_activated"],
                    false,
                );
                if v["active"].is_null() {
                    eprintln!("no revision is active: every check of {tenant} is denied");
                }
            }
        }
        PolicyCommand::Shadow {
            revision,
            off,
            tenant,
            client,
        } => {
            let c = Client::new(&client)?;
            let path = format!("/v1/tenants/{}/policies/shadow", enc(&tenant));
            if off {
                c.send(Method::DELETE, &path, None).await?;
                eprintln!("shadow mode is off for {tenant}");
            } else {
                let wanted = revision.expect("clap requires a revision without --off");
                let revision = resolve_revision(&c, &tenant, &wanted).await?;
                c.send(Method::PUT, &path, Some(json!({"revision": revision})))
                    .await?;
                eprintln!(
                    "shadowing {revision} for {tenant}: each decision records what it would \
                     have decided as result.shadow (see `sentinel decisions -t {tenant}`)"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn validate(dir: PathBuf, tenant: String, client: ClientArgs) -> anyhow::Result<ExitCode> {
    let c = Client::new(&client)?;
    let bundle = bundle_dir::load(&dir)?;
    let path = format!("/v1/tenants/{}/policies/validate", enc(&tenant));
    let v = c
        .send(Method::POST, &path, Some(bundle_dir::body(&bundle)?))
        .await?;
    let errors = v["errors"].as_array().cloned().unwrap_or_default();
    if c.json {
        print(&v, &[], true);
    } else if v["valid"] == true {
        println!("{}", v["revision"].as_str().unwrap_or_default());
    } else {
        bundle_dir::print_errors(&dir, &errors);
    }
    if v["valid"] != true {
        bail!(
            "the bundle in {} is invalid ({} error{})",
            dir.display(),
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
    }
    let evaluator = match (
        v["evaluator"]["engine"].as_str(),
        v["evaluator"]["reason"].as_str(),
    ) {
        (Some("vm"), _) => match v["evaluator"]["rules_indexed"].as_u64() {
            Some(n) if n > 0 => {
                format!("; decided on the bytecode VM, {n} rule(s) indexed")
            }
            _ => "; decided on the bytecode VM".to_string(),
        },
        (Some(engine), Some(why)) => format!("; decided on the {engine}: {why}"),
        (Some(engine), None) => format!("; decided on the {engine}"),
        (None, _) => String::new(),
    };
    eprintln!(
        "{} is valid ({} module(s){evaluator})",
        dir.display(),
        bundle.modules.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// One row per stored revision: whether it is active or shadowed, and when it last went live.
fn revision_rows(overview: &Value) -> Value {
    let activations = overview["activations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows: Vec<Value> = overview["revisions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|r| {
            let mut status = Vec::new();
            if overview["active"] == r {
                status.push("active");
            }
            if overview["shadow"] == r {
                status.push("shadow");
            }
            let last = activations
                .iter()
                .find(|a| a["revision"] == r)
                .map(|a| a["activated_at"].clone())
                .unwrap_or(Value::Null);
            let status = if status.is_empty() {
                Value::Null
            } else {
                status.join(",").into()
            };
            json!({"revision": r, "status": status, "last_activated": last})
        })
        .collect();
    Value::Array(rows)
}

/// Expands a unique prefix (with or without `sha256:`) to a stored revision's full name.
pub async fn resolve_revision(c: &Client, tenant: &str, wanted: &str) -> anyhow::Result<String> {
    let full = wanted.strip_prefix("sha256:").unwrap_or(wanted);
    if full.len() == 64 {
        return Ok(format!("sha256:{full}"));
    }
    let v = c
        .get(&format!("/v1/tenants/{}/policies", enc(tenant)))
        .await?;
    let matches: Vec<&str> = v["revisions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|r| r.starts_with(wanted) || r.starts_with(&format!("sha256:{wanted}")))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(anyhow!(
            "no revision of {tenant} starts with {wanted:?} (see `sentinel policy list -t {tenant}`)"
        )),
        many => Err(anyhow!(
            "{wanted:?} matches {} revisions of {tenant}; give more of it",
            many.len()
        )),
    }
}
