//! `sentinel webhooks`: a tenant's notification targets (generic JSON or Slack), their
//! delivery log, a test delivery and secret rotation.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{enc, Client, ClientArgs};
use crate::output::print;
use crate::resources::ListArgs;

const COLUMNS: &[&str] = &["name", "format", "events", "active", "url", "id"];
const DELIVERY_COLUMNS: &[&str] = &[
    "created_at",
    "event_type",
    "status",
    "attempts",
    "last_status",
    "last_error",
    "id",
];

const ADD_HELP: &str = "\
Examples:
  sentinel webhooks add -t acme oncall --webhook-url https://hooks.slack.com/services/T/B/X --format slack
  sentinel webhooks add -t acme siem --webhook-url https://siem.internal/sentinel --events '*'

Prints the signing secret once: receivers check each request's Sentinel-Signature header
with it (docs/webhooks.md shows how).";

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Send a tenant's events to a URL; prints the signing secret once
    #[command(after_help = ADD_HELP)]
    Add {
        #[arg(long, short)]
        tenant: String,
        /// Unique in the tenant
        name: String,
        /// http:// or https:// URL that receives one POST per event
        #[arg(long)]
        webhook_url: String,
        /// generic (the event as JSON) or slack (an incoming-webhook message)
        #[arg(long, value_parser = ["generic", "slack"], default_value = "generic")]
        format: String,
        /// Comma-separated event types, or '*' for all [default: approval.requested]
        #[arg(long)]
        events: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List a tenant's webhooks
    List {
        #[arg(long, short)]
        tenant: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a webhook and its delivery log
    Remove(WebhookRef),
    /// Show a webhook's delivery log, oldest first
    Deliveries {
        #[command(flatten)]
        webhook: WebhookRef,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Queue a webhook.test delivery to check that the receiver answers
    Test(WebhookRef),
    /// Replace the signing secret (the old one stops working at once); prints the new one
    RotateSecret(WebhookRef),
}

/// One webhook of a tenant, and the server to ask.
#[derive(Args, Debug)]
pub struct WebhookRef {
    #[arg(long, short)]
    tenant: String,
    /// Name or id
    webhook: String,
    #[command(flatten)]
    client: ClientArgs,
}

impl WebhookRef {
    /// The client, and the path of `rest` under this webhook.
    fn at(&self, rest: &str) -> anyhow::Result<(Client, String)> {
        let p = path(&self.tenant, &format!("/{}{rest}", enc(&self.webhook)));
        Ok((Client::new(&self.client)?, p))
    }
}

fn path(tenant: &str, rest: &str) -> String {
    format!("/v1/tenants/{}/webhooks{rest}", enc(tenant))
}

pub async fn webhooks(cmd: WebhookCommand) -> anyhow::Result<()> {
    match cmd {
        WebhookCommand::Add {
            tenant,
            name,
            webhook_url,
            format,
            events,
            client,
        } => {
            let c = Client::new(&client)?;
            let mut body = json!({"name": name, "url": webhook_url, "format": format});
            if let Some(events) = events {
                body["events"] = events.split(',').map(|e| e.trim()).collect();
            }
            let v = c.send(Method::POST, &path(&tenant, ""), Some(body)).await?;
            print_with_secret(&v, c.json);
        }
        WebhookCommand::List { tenant, client } => {
            let c = Client::new(&client)?;
            print(&c.get(&path(&tenant, "")).await?, COLUMNS, c.json);
        }
        WebhookCommand::Remove(w) => {
            let (c, p) = w.at("")?;
            c.send(Method::DELETE, &p, None).await?;
            eprintln!("deleted webhook {}", w.webhook);
        }
        WebhookCommand::Deliveries { webhook: w, list } => {
            let (c, p) = w.at(&format!("/deliveries{}", list.query(vec![])))?;
            print(&c.get(&p).await?, DELIVERY_COLUMNS, c.json);
        }
        WebhookCommand::Test(w) => {
            let (c, p) = w.at("/test")?;
            let v = c.send(Method::POST, &p, Some(json!({}))).await?;
            print(&v, DELIVERY_COLUMNS, c.json);
            eprintln!(
                "queued; follow it with `sentinel webhooks deliveries -t {} {}`",
                w.tenant, w.webhook
            );
        }
        WebhookCommand::RotateSecret(w) => {
            let (c, p) = w.at("/rotate-secret")?;
            let v = c.send(Method::POST, &p, Some(json!({}))).await?;
            print_with_secret(&v, c.json);
        }
    }
    Ok(())
}

fn print_with_secret(v: &Value, json: bool) {
    if json {
        print(v, &[], true);
        return;
    }
    print(&v["webhook"], COLUMNS, false);
    println!(
        "\nsigning secret (shown only now): {}",
        v["secret"].as_str().unwrap_or("")
    );
}
