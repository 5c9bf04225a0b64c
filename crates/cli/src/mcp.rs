//! `sentinel mcp`: a tenant's upstream MCP servers and their pinned tool definitions, and
//! `sentinel mcp stdio`, the bridge for MCP clients that can only launch a process.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;

const COLUMNS: &[&str] = &["name", "state", "enabled", "tools", "error", "id"];
const PIN_COLUMNS: &[&str] = &["tool", "status", "hash", "offered_hash", "approved_by"];

const ADD_HELP: &str = "\
Examples:
  sentinel mcp servers add -t acme time --command uvx --arg mcp-server-time
  sentinel mcp servers add -t acme github --http-url https://github-mcp.internal/mcp \\
      --header 'Authorization=Bearer ${secret:github_token}' --ca-cert /etc/pki/corp-ca.pem

Values of --env and --header may name tenant secrets as ${secret:NAME}: they are expanded when
the server is started, so neither the record nor the agent ever holds the credential.
https:// upstreams are verified against the system's trust store; --ca-cert adds a private CA
(PEM, stored in the record) for this upstream only.";

const STDIO_HELP: &str = "\
Example (Claude Desktop's claude_desktop_config.json):
  {\"mcpServers\": {\"sentinel\": {\"command\": \"sentinel\", \"args\": [\"mcp\", \"stdio\"],
    \"env\": {\"SENTINEL_URL\": \"http://127.0.0.1:8787\", \"SENTINEL_API_KEY\": \"snt_…\"}}}}";

#[derive(Subcommand, Debug)]
pub enum McpCommand {
    /// Manage a tenant's upstream MCP servers
    #[command(subcommand)]
    Servers(ServerCommand),
    /// Show the pinned tool definitions of an upstream (`changed` ones are blocked)
    Tools(ServerRef),
    /// Approve the changed definition of a blocked tool
    ApproveDefinition {
        #[command(flatten)]
        server: ServerRef,
        /// The tool's upstream name (without the `server__` prefix)
        tool: String,
    },
    /// Serve MCP on stdin/stdout, forwarding to Sentinel's gateway with an agent key
    #[command(after_help = STDIO_HELP)]
    Stdio {
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum ServerCommand {
    /// Register an upstream: a command Sentinel runs (stdio) or a streamable-HTTP URL
    #[command(after_help = ADD_HELP)]
    Add {
        #[arg(long, short)]
        tenant: String,
        /// Unique in the tenant; prefixes its tools (`name__tool`)
        name: String,
        /// Program to run (stdio transport)
        #[arg(
            long,
            conflicts_with = "http_url",
            required_unless_present = "http_url"
        )]
        command: Option<String>,
        /// An argument of the program (repeat for more)
        #[arg(long = "arg", allow_hyphen_values = true)]
        args: Vec<String>,
        /// NAME=VALUE for the program's environment (repeat for more)
        #[arg(long)]
        env: Vec<String>,
        /// Streamable-HTTP endpoint of the server
        #[arg(long)]
        http_url: Option<String>,
        /// NAME=VALUE sent with every request to the server (repeat for more)
        #[arg(long)]
        header: Vec<String>,
        /// PEM file of a private CA that issued the https:// server's certificate
        #[arg(long, requires = "http_url")]
        ca_cert: Option<std::path::PathBuf>,
        /// Register it without starting it
        #[arg(long)]
        disabled: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List a tenant's upstreams with their state
    List {
        #[arg(long, short)]
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Stop and remove an upstream
    Remove(ServerRef),
    /// Start offering an upstream's tools
    Enable(ServerRef),
    /// Stop an upstream and stop offering its tools
    Disable(ServerRef),
}

/// One upstream of a tenant, and the server to ask.
#[derive(Args, Debug)]
pub struct ServerRef {
    #[arg(long, short)]
    tenant: String,
    /// Name or id
    server: String,
    #[command(flatten)]
    client: ClientArgs,
}

impl ServerRef {
    fn at(&self, rest: &str) -> anyhow::Result<(Client, String)> {
        let p = path(&self.tenant, &format!("/{}{rest}", enc(&self.server)));
        Ok((Client::new(&self.client)?, p))
    }
}

fn path(tenant: &str, rest: &str) -> String {
    format!("/v1/tenants/{}/mcp/servers{rest}", enc(tenant))
}

fn pairs(flag: &str, items: &[String]) -> anyhow::Result<Value> {
    let mut map = serde_json::Map::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--{flag} takes NAME=VALUE, not {item:?}"))?;
        map.insert(k.to_string(), json!(v));
    }
    Ok(Value::Object(map))
}

pub async fn mcp(cmd: McpCommand) -> anyhow::Result<()> {
    match cmd {
        McpCommand::Servers(c) => servers(c).await,
        McpCommand::Tools(s) => {
            let (c, p) = s.at("/tools")?;
            print(&c.get(&p).await?, PIN_COLUMNS, c.json);
            Ok(())
        }
        McpCommand::ApproveDefinition { server, tool } => {
            let (c, p) = server.at(&format!("/tools/{}/approve-definition", enc(&tool)))?;
            let v = c.send(Method::POST, &p, Some(json!({}))).await?;
            print(&v, PIN_COLUMNS, c.json);
            Ok(())
        }
        McpCommand::Stdio { client } => {
            let url = format!("{}/mcp", client.url.trim_end_matches('/'));
            sentinel_mcp::bridge::run_stdio(&url, &client.key()?).await
        }
    }
}

async fn servers(cmd: ServerCommand) -> anyhow::Result<()> {
    match cmd {
        ServerCommand::Add {
            tenant,
            name,
            command,
            args,
            env,
            http_url,
            header,
            ca_cert,
            disabled,
            client,
        } => {
            let transport = match (command, http_url) {
                (Some(command), _) => json!({"type": "stdio", "command": command, "args": args,
                    "env": pairs("env", &env)?}),
                (None, Some(url)) => {
                    let mut t =
                        json!({"type": "http", "url": url, "headers": pairs("header", &header)?});
                    if let Some(file) = ca_cert {
                        let pem = std::fs::read_to_string(&file).map_err(|e| {
                            anyhow::anyhow!("could not read {}: {e}", file.display())
                        })?;
                        t["ca_cert_pem"] = json!(pem);
                    }
                    t
                }
                (None, None) => anyhow::bail!("give --command or --http-url"),
            };
            let c = Client::new(&client)?;
            let body = json!({"name": name, "transport": transport, "enabled": !disabled});
            let v = c.send(Method::POST, &path(&tenant, ""), Some(body)).await?;
            print(&v, &["name", "enabled", "id"], c.json);
        }
        ServerCommand::List { tenant, client } => {
            let c = Client::new(&client)?;
            print(&c.get(&path(&tenant, "")).await?, COLUMNS, c.json);
        }
        ServerCommand::Remove(s) => {
            let (c, p) = s.at("")?;
            c.send(Method::DELETE, &p, None).await?;
            eprintln!("removed MCP server {}", s.server);
        }
        ServerCommand::Enable(s) => enable(s, true).await?,
        ServerCommand::Disable(s) => enable(s, false).await?,
    }
    Ok(())
}

async fn enable(s: ServerRef, enabled: bool) -> anyhow::Result<()> {
    let (c, p) = s.at("")?;
    let v = c
        .send(Method::PATCH, &p, Some(json!({"enabled": enabled})))
        .await?;
    print(&v, &["name", "enabled", "id"], c.json);
    Ok(())
}
