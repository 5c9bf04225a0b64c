//! The resource commands: tenants, agents, tools and keys on a running server.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;

const TENANT_COLUMNS: &[&str] = &["slug", "display_name", "id", "created_at"];
const AGENT_COLUMNS: &[&str] = &["name", "status", "framework", "owner", "labels", "id"];
const TOOL_COLUMNS: &[&str] = &[
    "name",
    "kind",
    "server",
    "risk",
    "is_active",
    "scopes",
    "id",
];
const KEY_COLUMNS: &[&str] = &[
    "id",
    "role",
    "name",
    "agent_id",
    "last_used_at",
    "revoked_at",
];

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Page size (1-500)
    #[arg(long)]
    limit: Option<u32>,
    /// Continue after this cursor (printed under a full page)
    #[arg(long)]
    cursor: Option<String>,
}

impl ListArgs {
    pub fn query(&self, mut filters: Vec<(&str, Option<String>)>) -> String {
        filters.push(("limit", self.limit.map(|l| l.to_string())));
        filters.push(("cursor", self.cursor.clone()));
        let parts: Vec<String> = filters
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", enc(&v))))
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// Adds `key: value` to `body` when `value` is given.
fn put(body: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        body.insert(key.into(), v.into());
    }
}

pub fn labels(pairs: &[String]) -> anyhow::Result<Option<Value>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut map = Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--label takes key=value, got {p:?}"))?;
        map.insert(k.into(), v.into());
    }
    Ok(Some(Value::Object(map)))
}

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// List tenants
    List {
        #[command(flatten)]
        list: ListArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one tenant
    Get {
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Create a tenant (admin)
    Create {
        /// URL-safe name: a-z, 0-9, '-'
        slug: String,
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Rename a tenant
    Update {
        tenant: String,
        #[arg(long)]
        display_name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a tenant and everything it owns (admin)
    Delete {
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub async fn tenants(cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::List { list, client } => {
            let c = Client::new(&client)?;
            let v = c.get(&format!("/v1/tenants{}", list.query(vec![]))).await?;
            print(&v, TENANT_COLUMNS, c.json);
        }
        TenantCommand::Get { tenant, client } => {
            let c = Client::new(&client)?;
            print(
                &c.get(&format!("/v1/tenants/{}", enc(&tenant))).await?,
                TENANT_COLUMNS,
                c.json,
            );
        }
        TenantCommand::Create {
            slug,
            display_name,
            client,
        } => {
            let c = Client::new(&client)?;
            let mut body = Map::new();
            body.insert("slug".into(), slug.into());
            put(&mut body, "display_name", display_name);
            let v = c
                .send(Method::POST, "/v1/tenants", Some(body.into()))
                .await?;
            print(&v, TENANT_COLUMNS, c.json);
        }
        TenantCommand::Update {
            tenant,
            display_name,
            client,
        } => {
            let c = Client::new(&client)?;
            let path = format!("/v1/tenants/{}", enc(&tenant));
            let v = c
                .send(
                    Method::PATCH,
                    &path,
                    Some(json!({"display_name": display_name})),
                )
                .await?;
            print(&v, TENANT_COLUMNS, c.json);
        }
        TenantCommand::Delete { tenant, client } => {
            let c = Client::new(&client)?;
            c.send(
                Method::DELETE,
                &format!("/v1/tenants/{}", enc(&tenant)),
                None,
            )
            .await?;
            eprintln!("deleted tenant {tenant}");
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct AgentFields {
    #[arg(long)]
    framework: Option<String>,
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// key=value, repeatable
    #[arg(long = "label")]
    labels: Vec<String>,
}

impl AgentFields {
    fn body(self) -> anyhow::Result<Map<String, Value>> {
        let mut body = Map::new();
        put(&mut body, "framework", self.framework);
        put(&mut body, "owner", self.owner);
        put(&mut body, "description", self.description);
        put(&mut body, "labels", labels(&self.labels)?);
        Ok(body)
    }
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// List a tenant's agents
    List {
        #[arg(long, short)]
        tenant: String,
        /// active or killed
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        framework: Option<String>,
        /// key=value
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        list: ListArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one agent
    Get {
        #[arg(long, short)]
        tenant: String,
        agent: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Register an agent
    Create {
        #[arg(long, short)]
        tenant: String,
        name: String,
        #[command(flatten)]
        fields: AgentFields,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change an agent
    Update {
        #[arg(long, short)]
        tenant: String,
        agent: String,
        #[command(flatten)]
        fields: AgentFields,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete an agent (its keys stop working)
    Delete {
        #[arg(long, short)]
        tenant: String,
        agent: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub async fn agents(cmd: AgentCommand) -> anyhow::Result<()> {
    match cmd {
        AgentCommand::List {
            tenant,
            status,
            framework,
            label,
            list,
            client,
        } => {
            let c = Client::new(&client)?;
            let q = list.query(vec![
                ("status", status),
                ("framework", framework),
                ("label", label),
            ]);
            let v = c
                .get(&format!("/v1/tenants/{}/agents{q}", enc(&tenant)))
                .await?;
            print(&v, AGENT_COLUMNS, c.json);
        }
        AgentCommand::Get {
            tenant,
            agent,
            client,
        } => {
            let c = Client::new(&client)?;
            let v = c
                .get(&format!(
                    "/v1/tenants/{}/agents/{}",
                    enc(&tenant),
                    enc(&agent)
                ))
                .await?;
            print(&v, AGENT_COLUMNS, c.json);
        }
        AgentCommand::Create {
            tenant,
            name,
            fields,
            client,
        } => {
            let c = Client::new(&client)?;
            let mut body = fields.body()?;
            body.insert("name".into(), name.into());
            let path = format!("/v1/tenants/{}/agents", enc(&tenant));
            print(
                &c.send(Method::POST, &path, Some(body.into())).await?,
                AGENT_COLUMNS,
                c.json,
            );
        }
        AgentCommand::Update {
            tenant,
            agent,
            fields,
            client,
        } => {
            let c = Client::new(&client)?;
            let path = format!("/v1/tenants/{}/agents/{}", enc(&tenant), enc(&agent));
            let v = c
                .send(Method::PATCH, &path, Some(fields.body()?.into()))
                .await?;
            print(&v, AGENT_COLUMNS, c.json);
        }
        AgentCommand::Delete {
            tenant,
            agent,
            client,
        } => {
            let c = Client::new(&client)?;
            let path = format!("/v1/tenants/{}/agents/{}", enc(&tenant), enc(&agent));
            c.send(Method::DELETE, &path, None).await?;
            eprintln!("deleted agent {agent}");
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ToolFields {
    /// mcp, http, shell, llm or builtin
    #[arg(long)]
    kind: Option<String>,
    /// The MCP server offering the tool
    #[arg(long)]
    server: Option<String>,
    /// Where an HTTP tool is reached
    #[arg(long)]
    tool_url: Option<String>,
    #[arg(long)]
    owner: Option<String>,
    /// Repeatable
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// safe, warning or critical
    #[arg(long)]
    risk: Option<String>,
    /// A JSON object
    #[arg(long)]
    metadata: Option<String>,
    /// true or false
    #[arg(long)]
    active: Option<bool>,
}

impl ToolFields {
    fn body(self) -> anyhow::Result<Map<String, Value>> {
        let mut body = Map::new();
        put(&mut body, "kind", self.kind);
        put(&mut body, "server", self.server);
        put(&mut body, "url", self.tool_url);
        put(&mut body, "owner", self.owner);
        if !self.scopes.is_empty() {
            body.insert("scopes".into(), self.scopes.into());
        }
        put(&mut body, "risk", self.risk);
        if let Some(m) = self.metadata {
            let v: Value = serde_json::from_str(&m)
                .map_err(|e| anyhow::anyhow!("--metadata is not JSON: {e}"))?;
            body.insert("metadata".into(), v);
        }
        put(&mut body, "is_active", self.active);
        Ok(body)
    }
}

#[derive(Subcommand, Debug)]
pub enum ToolCommand {
    /// List a tenant's tools
    List {
        #[arg(long, short)]
        tenant: String,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        risk: Option<String>,
        #[arg(long)]
        server: Option<String>,
        #[command(flatten)]
        list: ListArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one tool
    Get {
        #[arg(long, short)]
        tenant: String,
        tool: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Register a tool (risk defaults to critical)
    Create {
        #[arg(long, short)]
        tenant: String,
        name: String,
        #[command(flatten)]
        fields: ToolFields,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change a tool
    Update {
        #[arg(long, short)]
        tenant: String,
        tool: String,
        #[command(flatten)]
        fields: ToolFields,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a tool
    Delete {
        #[arg(long, short)]
        tenant: String,
        tool: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub async fn tools(cmd: ToolCommand) -> anyhow::Result<()> {
    match cmd {
        ToolCommand::List {
            tenant,
            kind,
            risk,
            server,
            list,
            client,
        } => {
            let c = Client::new(&client)?;
            let q = list.query(vec![("kind", kind), ("risk", risk), ("server", server)]);
            let v = c
                .get(&format!("/v1/tenants/{}/tools{q}", enc(&tenant)))
                .await?;
            print(&v, TOOL_COLUMNS, c.json);
        }
        ToolCommand::Get {
            tenant,
            tool,
            client,
        } => {
            let c = Client::new(&client)?;
            let v = c
                .get(&format!(
                    "/v1/tenants/{}/tools/{}",
                    enc(&tenant),
                    enc(&tool)
                ))
                .await?;
            print(&v, TOOL_COLUMNS, c.json);
        }
        ToolCommand::Create {
            tenant,
            name,
            fields,
            client,
        } => {
            let c = Client::new(&client)?;
            let mut body = fields.body()?;
            body.insert("name".into(), name.into());
            body.entry("kind").or_insert_with(|| "mcp".into());
            let path = format!("/v1/tenants/{}/tools", enc(&tenant));
            print(
                &c.send(Method::POST, &path, Some(body.into())).await?,
                TOOL_COLUMNS,
                c.json,
            );
        }
        ToolCommand::Update {
            tenant,
            tool,
            fields,
            client,
        } => {
            let c = Client::new(&client)?;
            let path = format!("/v1/tenants/{}/tools/{}", enc(&tenant), enc(&tool));
            let v = c
                .send(Method::PATCH, &path, Some(fields.body()?.into()))
                .await?;
            print(&v, TOOL_COLUMNS, c.json);
        }
        ToolCommand::Delete {
            tenant,
            tool,
            client,
        } => {
            let c = Client::new(&client)?;
            let path = format!("/v1/tenants/{}/tools/{}", enc(&tenant), enc(&tool));
            c.send(Method::DELETE, &path, None).await?;
            eprintln!("deleted tool {tool}");
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// List a tenant's keys (or admin keys with --admin)
    List {
        #[arg(long, short, required_unless_present = "admin")]
        tenant: Option<String>,
        #[arg(long, conflicts_with = "tenant")]
        admin: bool,
        #[command(flatten)]
        list: ListArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Create a key; its secret is printed once
    Create {
        #[arg(long, short, required_unless_present = "admin")]
        tenant: Option<String>,
        /// operator, auditor or agent
        #[arg(long, required_unless_present = "admin")]
        role: Option<String>,
        /// The agent an agent key acts as
        #[arg(long)]
        agent: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Create an admin key instead
        #[arg(long, conflicts_with_all = ["tenant", "role", "agent"])]
        admin: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Revoke a key
    Revoke {
        key: String,
        #[arg(long, short, required_unless_present = "admin")]
        tenant: Option<String>,
        #[arg(long, conflicts_with = "tenant")]
        admin: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
}

fn keys_path(tenant: &Option<String>) -> String {
    match tenant {
        Some(t) => format!("/v1/tenants/{}/keys", enc(t)),
        None => "/v1/admin/keys".into(),
    }
}

pub async fn keys(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::List {
            tenant,
            list,
            client,
            ..
        } => {
            let c = Client::new(&client)?;
            let v = c
                .get(&format!("{}{}", keys_path(&tenant), list.query(vec![])))
                .await?;
            print(&v, KEY_COLUMNS, c.json);
        }
        KeyCommand::Create {
            tenant,
            role,
            agent,
            name,
            client,
            ..
        } => {
            let c = Client::new(&client)?;
            let mut body = Map::new();
            put(&mut body, "role", role);
            put(&mut body, "agent", agent);
            put(&mut body, "name", name);
            let v = c
                .send(Method::POST, &keys_path(&tenant), Some(body.into()))
                .await?;
            if c.json {
                print(&v, &[], true);
            } else {
                print(&v["key"], KEY_COLUMNS, false);
                println!(
                    "\nsecret (shown only now): {}",
                    v["secret"].as_str().unwrap_or("")
                );
            }
        }
        KeyCommand::Revoke {
            key,
            tenant,
            client,
            ..
        } => {
            let c = Client::new(&client)?;
            c.send(
                Method::DELETE,
                &format!("{}/{}", keys_path(&tenant), enc(&key)),
                None,
            )
            .await?;
            eprintln!("revoked key {key}");
        }
    }
    Ok(())
}

pub async fn whoami(client: ClientArgs) -> anyhow::Result<()> {
    let c = Client::new(&client)?;
    let v = c.get("/v1/whoami").await?;
    if c.json {
        print(&v, &[], true);
    } else {
        println!("key:    {}", v["key_id"].as_str().unwrap_or("-"));
        println!("role:   {}", v["role"].as_str().unwrap_or("-"));
        println!(
            "tenant: {}",
            v["tenant"]["slug"].as_str().unwrap_or("- (all tenants)")
        );
        if let Some(agent) = v["agent"]["name"].as_str() {
            println!("agent:  {agent}");
        }
    }
    Ok(())
}
