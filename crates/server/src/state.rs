//! What every handler can reach.

use std::sync::Arc;

use sentinel_store::Store;

use crate::auth::KeyCache;
use crate::Config;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub keys: KeyCache,
    pub config: Arc<Config>,
    pub pipeline: Arc<sentinel_pipeline::Pipeline>,
    pub guard: Arc<sentinel_guard::Guard>,
    /// Key for keyed-hash redaction (`hmac-sha256`), kept in the data directory.
    pub redaction_key: Arc<[u8; 32]>,
    pub audit: Arc<sentinel_pipeline::AuditLog>,
    /// Signs provenance manifests (DSSE) with the audit log's Ed25519 key.
    pub manifest_signer: Arc<sentinel_audit::dsse::DsseSigner>,
    /// Root key that webhook signing secrets are derived from (`secrets.key` in the data
    /// directory), so that no secret is stored.
    pub secrets_key: Arc<[u8; 32]>,
    /// Tenant secrets, sealed under a key derived from `secrets_key`.
    pub secrets: Arc<sentinel_pipeline::SecretVault>,
    pub notifier: Arc<crate::notify::Notifier>,
    /// The LLM gateway (`/v1/chat/completions` and friends).
    pub llm: Arc<sentinel_llm::Gateway>,
    /// The MCP gateway: upstream MCP servers and downstream sessions.
    pub mcp: Arc<sentinel_mcp::McpGateway>,
    /// Set when the server begins to shut down: ends the event streams, which would otherwise
    /// hold graceful shutdown open.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// Opens the configured store (creating the data directory) and builds the state.
    pub async fn open(config: &Config) -> anyhow::Result<AppState> {
        crate::bootstrap::create_data_dir(&config.data_dir)?;
        let mut options = sentinel_store::StoreOptions::default();
        options.audit_journal = config.audit_journal;
        let store = sentinel_store::open_with(&config.database_url(), options).await?;
        AppState::new(store, config.clone()).await
    }

    /// Builds the state over an open store: loads active policies and kill switches and starts
    /// the decision log writer and the webhook notifier.
    pub async fn new(store: Arc<dyn Store>, config: Config) -> anyhow::Result<AppState> {
        let pipeline_config = sentinel_pipeline::PipelineConfig {
            policy_timeout: std::time::Duration::from_millis(config.policy_timeout_ms),
            evaluator: config.policy_evaluator,
            rule_index: config.policy_rule_index,
            audit_strict: config.audit_strict,
            approvals: sentinel_pipeline::ApprovalConfig {
                request_ttl: std::time::Duration::from_secs(config.approval_ttl_seconds),
                grant_ttl: std::time::Duration::from_secs(config.grant_ttl_seconds),
            },
        };
        let signer = crate::bootstrap::load_or_create_signer(
            &config.data_dir.join("audit.key"),
            &config.audit_origin,
        )?;
        let manifest_signer = Arc::new(sentinel_audit::dsse::DsseSigner::new(
            signer.signing_key().clone(),
        ));
        let audit = Arc::new(
            sentinel_pipeline::AuditLog::start(store.clone(), signer)
                .await
                .map_err(anyhow::Error::msg)?,
        );
        let guard = Arc::new(sentinel_guard::Guard::builtin());
        let redaction_key =
            crate::bootstrap::load_or_create_key(&config.data_dir.join("redaction.key"))?;
        let scanner = sentinel_pipeline::GuardScanner::new(guard.clone(), redaction_key);
        let pipeline = sentinel_pipeline::Pipeline::start(store.clone(), pipeline_config)
            .await?
            .with_scanner(Arc::new(scanner))
            .with_audit(audit.clone())
            .with_grant_key(crate::bootstrap::load_or_create_key(
                &config.data_dir.join("grant.key"),
            )?);
        let pipeline = Arc::new(pipeline);
        sentinel_pipeline::spawn_approval_expiry(pipeline.clone());
        let stopping = Arc::new(tokio::sync::watch::Sender::new(false));
        crate::cluster::spawn_sync(pipeline.clone(), &config, stopping.subscribe());
        let secrets_key = Arc::new(crate::bootstrap::load_or_create_key(
            &config.data_dir.join("secrets.key"),
        )?);
        let notifier = crate::notify::Notifier::start(
            store.clone(),
            pipeline.events.clone(),
            secrets_key.clone(),
            &config,
        );
        let secrets = Arc::new(sentinel_pipeline::SecretVault::new(
            store.clone(),
            &secrets_key,
        ));
        let llm = Arc::new(sentinel_llm::Gateway::start(
            config.llm.clone(),
            pipeline.clone(),
            store.clone(),
            guard.clone(),
            Arc::new(sentinel_llm::VaultKeys::new(secrets.clone())),
        ));
        let mcp = sentinel_mcp::McpGateway::start(
            pipeline.clone(),
            store.clone(),
            guard.clone(),
            secrets.clone(),
            config.mcp.clone(),
        );
        Ok(AppState {
            llm,
            mcp,
            secrets,
            store,
            keys: KeyCache::default(),
            config: Arc::new(config),
            pipeline,
            guard,
            redaction_key: Arc::new(redaction_key),
            audit,
            manifest_signer,
            secrets_key,
            notifier,
            stopping,
        })
    }
}

impl AppState {
    /// Records an operator action (kill, restore, policy activation, key change) in the audit
    /// log. Fails when the log cannot be written, so the caller can refuse the change.
    pub async fn audit_event(
        &self,
        tenant: Option<uuid::Uuid>,
        actor: &sentinel_core::Principal,
        kind: sentinel_audit::entry::EntryKind,
        details: serde_json::Value,
    ) -> Result<(), crate::problem::ApiError> {
        let entry = sentinel_pipeline::NewEntry {
            tenant,
            actor: format!("key:{}", actor.key_id),
            kind,
            agent: None,
            tool: None,
            outcome: None,
            policy_revision: details
                .get("revision")
                .and_then(|r| r.as_str())
                .map(String::from),
            request_digest: None,
            details,
        };
        self.audit
            .append(entry)
            .await
            .map(|_| ())
            .map_err(|reason| {
                crate::problem::ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "audit_unavailable",
                    format!("the change was not made because {reason}"),
                )
            })
    }
}
