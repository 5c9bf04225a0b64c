//! `sentinel secrets`: a tenant's write-only credentials for upstream MCP servers and LLM
//! providers. Values are read from standard input, a file or an environment variable — never
//! from the command line, where shell history and `ps` would keep them.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;

const COLUMNS: &[&str] = &["name", "version", "description", "updated_at"];

const SET_HELP: &str = "\
Examples:
  printf %s \"$GITHUB_TOKEN\" | sentinel secrets set -t acme github_token
  sentinel secrets set -t acme openai_key --from-env OPENAI_API_KEY --description 'prod key'
  sentinel secrets set -t acme gcp_sa --from-file service-account.json

Upstream configuration refers to the secret as ${secret:NAME}, e.g. a header
\"Authorization\": \"Bearer ${secret:github_token}\". The value is never shown again.";

#[derive(Subcommand, Debug)]
pub enum SecretCommand {
    /// Create or replace a secret; the value comes from stdin unless --from-env/--from-file
    #[command(after_help = SET_HELP)]
    Set {
        #[arg(long, short)]
        tenant: String,
        /// A-Z a-z 0-9 _ . - (at most 64)
        name: String,
        /// Read the value from this environment variable
        #[arg(long, conflicts_with = "from_file")]
        from_env: Option<String>,
        /// Read the value from this file (a trailing newline is kept)
        #[arg(long)]
        from_file: Option<std::path::PathBuf>,
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List a tenant's secrets (names and versions, never values)
    List {
        #[arg(long, short)]
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a secret
    Delete {
        #[arg(long, short)]
        tenant: String,
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

fn path(tenant: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("/v1/tenants/{}/secrets/{}", enc(tenant), enc(n)),
        None => format!("/v1/tenants/{}/secrets", enc(tenant)),
    }
}

/// The value to store, from wherever the user pointed. Standard input is read whole, with one
/// trailing newline dropped (what `echo` adds).
fn read_value(
    from_env: Option<String>,
    from_file: Option<std::path::PathBuf>,
) -> anyhow::Result<String> {
    if let Some(var) = from_env {
        return std::env::var(&var)
            .with_context(|| format!("environment variable {var} is not set"));
    }
    if let Some(file) = from_file {
        return std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()));
    }
    let mut value = String::new();
    std::io::stdin()
        .read_to_string(&mut value)
        .context("reading the secret from standard input")?;
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(value)
}

pub async fn secrets(cmd: SecretCommand) -> anyhow::Result<()> {
    match cmd {
        SecretCommand::Set {
            tenant,
            name,
            from_env,
            from_file,
            description,
            client,
        } => {
            let value = read_value(from_env, from_file)?;
            let c = Client::new(&client)?;
            let body = json!({"value": value, "description": description});
            let v = c
                .send(Method::PUT, &path(&tenant, Some(&name)), Some(body))
                .await?;
            print(&v, COLUMNS, c.json);
            eprintln!("stored; refer to it as ${{secret:{name}}}");
        }
        SecretCommand::List { tenant, client } => {
            let c = Client::new(&client)?;
            print(&c.get(&path(&tenant, None)).await?, COLUMNS, c.json);
        }
        SecretCommand::Delete {
            tenant,
            name,
            client,
        } => {
            let c = Client::new(&client)?;
            c.send(Method::DELETE, &path(&tenant, Some(&name)), None)
                .await?;
            eprintln!("deleted secret {name}");
        }
    }
    Ok(())
}
