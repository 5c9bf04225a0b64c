//! One upstream MCP server: connected (a stdio process spawned and supervised, or a
//! streamable-HTTP endpoint), its tools listed and pinned, and restarted with backoff when it
//! fails. Its state is a watch channel, so requests can wait for a server that is starting.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, Tool};
use rmcp::service::{ClientInitializeError, NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, Peer, RoleClient, ServiceExt};
use sentinel_core::{McpServer, McpTransport};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::http_client::{HttpClient, HttpOptions};
use crate::inventory::Inventory;
use crate::SecretExpander;

/// A tool an upstream offers, and whether its definition matches its pin.
#[derive(Debug, Clone)]
pub struct OfferedTool {
    pub tool: Tool,
    /// `false` while the definition differs from the approved one.
    pub pinned: bool,
}

/// A connected upstream.
pub struct Live {
    pub peer: Peer<RoleClient>,
    pub tools: Vec<OfferedTool>,
}

#[derive(Clone)]
pub enum Link {
    Starting,
    Up(Arc<Live>),
    Down(String),
}

pub struct Upstream {
    pub server: McpServer,
    link: watch::Receiver<Link>,
    /// Asks the supervisor to list the tools again (after a pin is approved, say).
    relist: Arc<Notify>,
    stop: CancellationToken,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Parts the supervisor needs.
pub struct Supervision {
    pub secrets: Arc<dyn SecretExpander>,
    pub inventory: Arc<Inventory>,
    pub max_backoff: Duration,
    /// Timeouts of HTTP upstreams (each adds its own CA).
    pub http: HttpOptions,
}

impl Upstream {
    /// Starts supervising `server`: connects now, and again with backoff whenever it fails.
    pub fn start(server: McpServer, sup: Arc<Supervision>) -> Arc<Upstream> {
        if let McpTransport::Http { url, .. } = &server.transport {
            if crate::http_client::is_plaintext_remote(url) {
                tracing::warn!(
                    server = %server.name,
                    "MCP upstream is plain http:// to another host: its requests and headers \
                     (credentials included) cross the network unencrypted; use https://"
                );
            }
        }
        let (tx, rx) = watch::channel(Link::Starting);
        let relist = Arc::new(Notify::new());
        let stop = CancellationToken::new();
        tokio::spawn(supervise(
            server.clone(),
            sup,
            tx,
            relist.clone(),
            stop.clone(),
        ));
        Arc::new(Upstream {
            server,
            link: rx,
            relist,
            stop,
        })
    }

    pub fn link(&self) -> Link {
        self.link.borrow().clone()
    }

    /// The live connection, waiting up to `timeout` for a server that is starting.
    pub async fn live(&self, timeout: Duration) -> Result<Arc<Live>, String> {
        let mut rx = self.link.clone();
        let settled = tokio::time::timeout(timeout, async {
            rx.wait_for(|l| !matches!(l, Link::Starting))
                .await
                .map(|l| l.clone())
        })
        .await;
        match settled {
            Ok(Ok(Link::Up(live))) => Ok(live),
            Ok(Ok(Link::Down(reason))) => Err(reason),
            Ok(Ok(Link::Starting)) | Ok(Err(_)) => Err("the upstream was stopped".into()),
            Err(_) => Err(format!("the upstream did not start within {timeout:?}")),
        }
    }

    pub fn relist(&self) {
        self.relist.notify_one();
    }
}

/// Client side of the upstream connection: relists tools when the server says they changed.
#[derive(Clone)]
struct UpstreamClient {
    relist: Arc<Notify>,
}

impl ClientHandler for UpstreamClient {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.relist.notify_one();
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("sentinel-mcp-gateway", env!("CARGO_PKG_VERSION")),
        )
    }
}

async fn supervise(
    server: McpServer,
    sup: Arc<Supervision>,
    tx: watch::Sender<Link>,
    relist: Arc<Notify>,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let client = UpstreamClient {
            relist: relist.clone(),
        };
        let attempt = tokio::select! {
            r = connect(&server, &sup, client) => r,
            _ = stop.cancelled() => return,
        };
        match attempt {
            Ok(running) => {
                let peer = running.peer().clone();
                let mut closer = Some(running.cancellation_token());
                let mut ended = Box::pin(running.waiting());
                loop {
                    match list(&server, &sup, &peer).await {
                        Ok(tools) => {
                            backoff = Duration::from_secs(1);
                            tx.send_replace(Link::Up(Arc::new(Live {
                                peer: peer.clone(),
                                tools,
                            })));
                        }
                        Err(e) => {
                            tx.send_replace(Link::Down(e));
                            if let Some(c) = closer.take() {
                                c.cancel();
                            }
                            break;
                        }
                    }
                    tokio::select! {
                        _ = relist.notified() => continue,
                        _ = &mut ended => {
                            tracing::warn!(server = %server.name, "MCP upstream exited; restarting");
                            tx.send_replace(Link::Down(format!("upstream {} exited", server.name)));
                            break;
                        }
                        _ = stop.cancelled() => {
                            if let Some(c) = closer.take() {
                                c.cancel();
                            }
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(server = %server.name, error = %e, "MCP upstream failed to start");
                tx.send_replace(Link::Down(e));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(sup.max_backoff);
        if !matches!(*tx.borrow(), Link::Up(_)) {
            // Requests arriving now wait for the next attempt rather than fail at once.
            tx.send_replace(Link::Starting);
        }
    }
}

async fn list(
    server: &McpServer,
    sup: &Supervision,
    peer: &Peer<RoleClient>,
) -> Result<Vec<OfferedTool>, String> {
    let tools = peer
        .list_all_tools()
        .await
        .map_err(|e| format!("upstream {} did not list its tools: {e}", server.name))?;
    sup.inventory.reconcile(server, tools).await.map_err(|e| {
        format!(
            "the tools of upstream {} were not recorded: {e}",
            server.name
        )
    })
}

type Running = RunningService<RoleClient, UpstreamClient>;

/// An initialization failure without the transport's Rust type name (rmcp's message has it).
fn init_error(e: &ClientInitializeError) -> String {
    match e {
        ClientInitializeError::TransportError { error, context } => {
            format!("{} ({context})", error.error)
        }
        e => e.to_string(),
    }
}

async fn connect(
    server: &McpServer,
    sup: &Supervision,
    client: UpstreamClient,
) -> Result<Running, String> {
    let tenant = server.tenant_id;
    match &server.transport {
        McpTransport::Stdio { command, args, env } => {
            let mut cmd = tokio::process::Command::new(command);
            cmd.args(args).env_clear().kill_on_drop(true);
            // Only what a program needs to run: never Sentinel's own environment, which may
            // hold its database URL or other credentials.
            for var in ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ"] {
                if let Ok(v) = std::env::var(var) {
                    cmd.env(var, v);
                }
            }
            for (k, template) in env {
                let value = sup.secrets.expand(tenant, template).await.map_err(|e| {
                    format!(
                        "env {k} of upstream {} could not be expanded: {e}",
                        server.name
                    )
                })?;
                cmd.env(k, value);
            }
            let (process, stderr) = TokioChildProcess::builder(cmd)
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("upstream {} could not be started: {e}", server.name))?;
            if let Some(stderr) = stderr {
                let name = server.name.clone();
                tokio::spawn(async move {
                    let mut lines = tokio::io::BufReader::new(stderr).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        tracing::debug!(server = %name, "upstream stderr: {line}");
                    }
                });
            }
            client.serve(process).await.map_err(|e| {
                format!(
                    "upstream {} did not initialize: {}",
                    server.name,
                    init_error(&e)
                )
            })
        }
        McpTransport::Http {
            url,
            headers,
            ca_cert_pem,
        } => {
            let mut custom = HashMap::new();
            for (k, template) in headers {
                let value = sup.secrets.expand(tenant, template).await.map_err(|e| {
                    format!(
                        "header {k} of upstream {} could not be expanded: {e}",
                        server.name
                    )
                })?;
                let name = http::HeaderName::try_from(k.as_str())
                    .map_err(|_| format!("{k:?} is not a header name"))?;
                let value = http::HeaderValue::try_from(value)
                    .map_err(|_| format!("the value of header {k} is not a header value"))?;
                custom.insert(name, value);
            }
            let http = HttpClient::new(&HttpOptions {
                ca_cert_pem: ca_cert_pem.clone(),
                ..sup.http.clone()
            })
            .map_err(|e| format!("upstream {}: {e}", server.name))?;
            let transport = http.transport(url, custom);
            client.serve(transport).await.map_err(|e| {
                format!(
                    "upstream {} did not initialize: {}",
                    server.name,
                    init_error(&e)
                )
            })
        }
    }
}
