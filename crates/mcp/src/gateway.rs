//! The gateway: each tenant's upstreams (started on first use, restarted when their records
//! change), the open downstream sessions, and the kill-switch watcher that closes them.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use sentinel_core::{Kill, McpServer};
use sentinel_guard::Guard;
use sentinel_pipeline::events::kinds;
use sentinel_pipeline::Pipeline;
use sentinel_store::{Store, StoreError};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::handler::SessionHandler;
use crate::http_client::HttpOptions;
use crate::inventory::Inventory;
use crate::session::Sessions;
use crate::upstream::{Supervision, Upstream};
use crate::{McpConfig, SecretExpander};

pub struct McpGateway {
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) guard: Arc<Guard>,
    pub(crate) config: McpConfig,
    supervision: Arc<Supervision>,
    /// Upstreams of the tenants that have used the gateway since this node started.
    tenants: Mutex<HashMap<Uuid, HashMap<String, Arc<Upstream>>>>,
    pub(crate) sessions: Sessions,
    session_manager: Arc<LocalSessionManager>,
}

impl McpGateway {
    /// Builds the gateway and starts its kill-switch watcher.
    pub fn start(
        pipeline: Arc<Pipeline>,
        store: Arc<dyn Store>,
        guard: Arc<Guard>,
        secrets: Arc<dyn SecretExpander>,
        config: McpConfig,
    ) -> Arc<McpGateway> {
        let supervision = Arc::new(Supervision {
            secrets,
            inventory: Arc::new(Inventory {
                store: store.clone(),
                pipeline: pipeline.clone(),
            }),
            max_backoff: Duration::from_secs(config.max_backoff_seconds.max(1)),
            http: HttpOptions {
                connect_timeout: config.connect_timeout(),
                // A JSON-answering upstream sends its headers only when the call is done.
                response_timeout: config.call_timeout(),
                ca_cert_pem: None,
            },
        });
        let gateway = Arc::new(McpGateway {
            pipeline,
            store,
            guard,
            config,
            supervision,
            tenants: Mutex::new(HashMap::new()),
            sessions: Sessions::default(),
            session_manager: Arc::new(LocalSessionManager::default()),
        });
        tokio::spawn(watch_kills(Arc::downgrade(&gateway)));
        gateway
    }

    /// The streamable-HTTP MCP endpoint. Mount it behind authentication that puts the caller's
    /// [`sentinel_core::Principal`] in the request's extensions.
    pub fn http_service(
        self: &Arc<Self>,
    ) -> StreamableHttpService<SessionHandler, LocalSessionManager> {
        let mut config = StreamableHttpServerConfig::default();
        config.allowed_hosts = self.config.allowed_hosts.clone();
        let gateway = self.clone();
        StreamableHttpService::new(
            move || Ok(SessionHandler::new(gateway.clone())),
            self.session_manager.clone(),
            config,
        )
    }

    /// The tenant's enabled upstreams, started on first use.
    pub async fn upstreams(&self, tenant: Uuid) -> Result<Vec<Arc<Upstream>>, StoreError> {
        let mut tenants = self.tenants.lock().await;
        if let Some(running) = tenants.get(&tenant) {
            return Ok(running.values().cloned().collect());
        }
        let servers = self.store.mcp_servers(tenant).await?;
        let running = self.started(servers, HashMap::new());
        let list = running.values().cloned().collect();
        tenants.insert(tenant, running);
        Ok(list)
    }

    pub async fn upstream(&self, tenant: Uuid, name: &str) -> Option<Arc<Upstream>> {
        self.upstreams(tenant)
            .await
            .ok()?
            .into_iter()
            .find(|u| u.server.name == name)
    }

    /// Applies changed upstream records of `tenant`: new and changed servers are (re)started,
    /// removed and disabled ones stopped. Untouched ones keep running.
    pub async fn reload(&self, tenant: Uuid) -> Result<(), StoreError> {
        let mut tenants = self.tenants.lock().await;
        let Some(running) = tenants.remove(&tenant) else {
            return Ok(()); // Not started yet: the first use loads the records.
        };
        let servers = self.store.mcp_servers(tenant).await?;
        tenants.insert(tenant, self.started(servers, running));
        Ok(())
    }

    /// Lists `server`'s tools again (after an operator approved a new definition).
    pub async fn relist(&self, tenant: Uuid, server: &str) {
        if let Some(u) = self
            .tenants
            .lock()
            .await
            .get(&tenant)
            .and_then(|t| t.get(server))
        {
            u.relist();
        }
    }

    /// How many downstream sessions are open on this node.
    pub fn open_sessions(&self) -> usize {
        self.sessions.len()
    }

    fn started(
        &self,
        servers: Vec<McpServer>,
        mut running: HashMap<String, Arc<Upstream>>,
    ) -> HashMap<String, Arc<Upstream>> {
        servers
            .into_iter()
            .filter(|s| s.enabled)
            .map(|s| {
                let upstream = match running.remove(&s.name) {
                    Some(u) if u.server.transport == s.transport => u,
                    _ => Upstream::start(s.clone(), self.supervision.clone()),
                };
                (s.name, upstream)
            })
            .collect()
        // What is left in `running` is dropped here, which stops it.
    }
}

/// Closes the sessions a kill switch covers: their in-flight calls fail at once (with an
/// `isError` result saying why), then the session itself is closed, so the client must start a
/// new one, which the kill denies.
async fn watch_kills(gateway: Weak<McpGateway>) {
    let mut events = match gateway.upgrade() {
        Some(g) => g.pipeline.events.subscribe(None).live,
        None => return,
    };
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        if event.kind != kinds::KILL_ACTIVATED {
            continue;
        }
        let Some(gateway) = gateway.upgrade() else {
            return;
        };
        let Ok(kill) = serde_json::from_value::<Kill>((*event.data).clone()) else {
            continue;
        };
        let killed = gateway.sessions.take_killed(&kill);
        if killed.is_empty() {
            continue;
        }
        tracing::warn!(sessions = killed.len(), scope = ?kill.scope, target = %kill.target, "kill switch closes MCP sessions");
        for session in &killed {
            session.killed.cancel();
        }
        let manager = gateway.session_manager.clone();
        tokio::spawn(async move {
            // Let the failed calls' results reach their clients before the streams close.
            tokio::time::sleep(Duration::from_millis(250)).await;
            for session in killed {
                let _ = manager.close_session(&session.id.as_str().into()).await;
            }
        });
    }
}
