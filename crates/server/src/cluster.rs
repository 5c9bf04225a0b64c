//! Cluster mode: several nodes share one PostgreSQL database (state and audit log), each with
//! the same keys in its data directory. A node that kills, restores or activates something
//! announces it (`NOTIFY`); every node's sync task then re-reads kills and active policies from
//! the store and applies what changed, publishing the same live events that the originating
//! node published, so streams and gateways on every node react (an MCP session or LLM stream in
//! a kill's scope ends on whichever node holds it). A poll every `cluster_sync_ms` covers
//! notices lost to a dropped connection. On SQLite there is one node and the poll is a no-op
//! in practice.

use std::sync::Arc;
use std::time::Duration;

use sentinel_pipeline::events::kinds;
use sentinel_pipeline::{Pipeline, SyncChanges};
use sentinel_store::{ChangeListener, Dialect};

use crate::{AppState, Config};

/// Wait before listening again after the notice connection failed.
const RELISTEN_AFTER: Duration = Duration::from_secs(2);

/// Tells the other nodes that kills or policies changed. Best effort: they poll anyway.
pub async fn announce(state: &AppState) {
    if let Err(e) = state.store.announce_change().await {
        tracing::warn!(error = %e, "could not announce a change to other nodes; they see it at their next poll");
    }
}

/// Starts this node's sync task; it ends when `stopping` turns true.
pub fn spawn_sync(
    pipeline: Arc<Pipeline>,
    config: &Config,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let url = config.database_url();
    let listens = Dialect::of_url(&url).is_ok_and(|d| d == Dialect::Postgres);
    let every = Duration::from_millis(config.cluster_sync_ms.max(10));
    tokio::spawn(async move {
        let mut listener: Option<ChangeListener> = None;
        let mut retry_listen_at = tokio::time::Instant::now();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if listens && listener.is_none() && tokio::time::Instant::now() >= retry_listen_at {
                match ChangeListener::connect(&url).await {
                    Ok(l) => listener = l,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for change notices; polling only");
                        retry_listen_at = tokio::time::Instant::now() + RELISTEN_AFTER;
                    }
                }
            }
            tokio::select! {
                _ = tick.tick() => {}
                notice = next_notice(&mut listener) => {
                    if let Err(e) = notice {
                        tracing::warn!(error = %e, "change notices interrupted; polling until they are back");
                        listener = None;
                        retry_listen_at = tokio::time::Instant::now() + RELISTEN_AFTER;
                    }
                }
                _ = stopping.wait_for(|s| *s) => return,
            }
            match pipeline.sync_from_store().await {
                Ok(changes) => publish(&pipeline, changes).await,
                Err(e) => {
                    tracing::warn!(error = %e, "cluster sync failed; retrying at the next poll")
                }
            }
        }
    });
}

async fn next_notice(listener: &mut Option<ChangeListener>) -> sentinel_store::Result<()> {
    match listener {
        Some(l) => l.changed().await,
        None => std::future::pending().await,
    }
}

/// Publishes, on this node, the events the originating node published for these changes.
async fn publish(pipeline: &Pipeline, changes: SyncChanges) {
    for kill in changes.killed {
        let tenant = kill.tenant_id;
        let data = serde_json::to_value(&kill).unwrap_or_default();
        pipeline
            .events
            .publish(kinds::KILL_ACTIVATED, Some(tenant), None, data);
    }
    for kill in changes.restored {
        let tenant = kill.tenant_id;
        let data = serde_json::to_value(&kill).unwrap_or_default();
        pipeline
            .events
            .publish(kinds::KILL_RESTORED, Some(tenant), None, data);
    }
    for (tenant, revision) in changes.activated {
        let slug = match pipeline.store.tenant(&tenant.to_string()).await {
            Ok(Some(t)) => t.slug,
            _ => tenant.to_string(),
        };
        pipeline.events.publish(
            kinds::POLICY_ACTIVATED,
            Some(tenant),
            None,
            serde_json::json!({"bundle": slug, "revision": revision, "by": null}),
        );
    }
}
