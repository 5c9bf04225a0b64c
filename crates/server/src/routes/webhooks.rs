//! Webhooks: where a tenant's events are sent (generic JSON or Slack), their signing secrets,
//! a test delivery, and the delivery log. Sending itself is the notifier's job
//! ([`crate::notify`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_audit::entry::EntryKind;
use sentinel_core::validate::{name, FieldError, Validate, MAX_TEXT};
use sentinel_core::*;
use sentinel_pipeline::events::{kinds, Event};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, Created};
use crate::auth::{Manage, Read, TenantAccess};
use crate::extract::{PageParams, ValidJson, ValidPath, ValidQuery};
use crate::notify::WEBHOOK_TEST;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(test_webhook))
        .routes(routes!(rotate_secret))
}

/// Most event types one webhook can list.
const MAX_EVENTS: usize = 32;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Unique in the tenant.
    pub name: String,
    /// An `http://` or `https://` URL that receives one POST per event.
    pub url: String,
    #[serde(default = "generic")]
    pub format: WebhookFormat,
    /// Event types to send, or `["*"]` for all. Default: `["approval.requested"]`.
    #[serde(default = "approval_requested")]
    pub events: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn generic() -> WebhookFormat {
    WebhookFormat::Generic
}

fn approval_requested() -> Vec<String> {
    vec![kinds::APPROVAL_REQUESTED.into()]
}

fn yes() -> bool {
    true
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub format: Option<WebhookFormat>,
    pub events: Option<Vec<String>>,
    /// `false` pauses the webhook: no new deliveries, and queued ones fail.
    pub active: Option<bool>,
}

/// A webhook with its signing secret: shown when created or rotated, never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    /// `whsec_…`: the HMAC key of the `Sentinel-Signature` header. Store it now.
    pub secret: String,
}

impl Validate for NewWebhook {
    fn validate(&self) -> Result<(), FieldError> {
        name("name", &self.name)?;
        url("url", &self.url)?;
        events("events", &self.events)
    }
}

impl Validate for WebhookPatch {
    fn validate(&self) -> Result<(), FieldError> {
        if let Some(n) = &self.name {
            name("name", n)?;
        }
        if let Some(u) = &self.url {
            url("url", u)?;
        }
        self.events.as_ref().map_or(Ok(()), |e| events("events", e))
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// An absolute `http` or `https` URL with a host, of bounded length.
fn url(field: &str, value: &str) -> Result<(), FieldError> {
    if value.len() > MAX_TEXT {
        return Err(invalid(field, format!("must be at most {MAX_TEXT} bytes")));
    }
    let parsed =
        reqwest::Url::parse(value).map_err(|e| invalid(field, format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid(
            field,
            "must be an http:// or https:// URL with a host",
        ));
    }
    Ok(())
}

/// Known event types or `*`, at least one, at most [`MAX_EVENTS`].
fn events(field: &str, value: &[String]) -> Result<(), FieldError> {
    if value.is_empty() || value.len() > MAX_EVENTS {
        return Err(invalid(
            field,
            format!("list 1-{MAX_EVENTS} event types, or \"*\""),
        ));
    }
    for (i, e) in value.iter().enumerate() {
        if e != "*" && !kinds::ALL.contains(&e.as_str()) {
            return Err(invalid(
                format!("{field}[{i}]"),
                format!(
                    "unknown event type {e:?}; known: *, {}",
                    kinds::ALL.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// What the audit log keeps of a webhook: not its URL, only the URL's host, because a Slack
/// webhook URL is itself a credential.
fn audit_details(action: &str, hook: &Webhook) -> serde_json::Value {
    let host = url_host(&hook.url);
    serde_json::json!({
        "action": action, "webhook_id": hook.id, "name": hook.name, "url_host": host,
        "format": hook.format, "events": hook.events, "active": hook.active,
        "secret_version": hook.secret_version,
    })
}

async fn record(
    state: &AppState,
    access: &TenantAccess<Manage>,
    action: &str,
    hook: &Webhook,
) -> ApiResult<()> {
    state
        .audit_event(
            Some(access.tenant.id),
            &access.caller,
            EntryKind::Configuration,
            audit_details(action, hook),
        )
        .await
}

async fn find(state: &AppState, tenant: uuid::Uuid, id_or_name: &str) -> ApiResult<Webhook> {
    state
        .store
        .webhooks(tenant)
        .await?
        .into_iter()
        .find(|h| h.id.to_string() == id_or_name || h.name == id_or_name)
        .ok_or_else(|| ApiError::not_found(format!("webhook {id_or_name:?}")))
}

/// Create a webhook. The answer carries its signing secret, shown only this once.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/webhooks", tag = "webhooks", request_body = NewWebhook,
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 201, body = WebhookWithSecret)))]
async fn create_webhook(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidJson(new): ValidJson<NewWebhook>,
) -> ApiResult<Created<WebhookWithSecret>> {
    let tenant = access.tenant.id;
    if state
        .store
        .webhooks(tenant)
        .await?
        .iter()
        .any(|h| h.name == new.name)
    {
        return Err(ApiError::from(sentinel_store::StoreError::Conflict(format!(
            "webhook {:?}",
            new.name
        )))
        .with_field("name"));
    }
    let hook = Webhook {
        id: new_id(),
        tenant_id: tenant,
        name: new.name,
        url: new.url,
        format: new.format,
        events: dedup(new.events),
        active: new.active,
        secret_version: 0,
        created_at: ids::now(),
    };
    record(&state, &access, "create", &hook).await?;
    state.store.insert_webhook(&hook).await?;
    state.notifier.webhooks_changed(tenant);
    tracing::info!(webhook = %hook.id, by = %access.caller.key_id, "webhook created");
    let secret = state.notifier.secret(&hook);
    Ok(created(WebhookWithSecret {
        webhook: hook,
        secret,
    }))
}

fn dedup(mut events: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    events.retain(|e| seen.insert(e.clone()));
    events
}

fn url_host(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(String::from))
}

/// A webhook as `caller` may see it: those who cannot manage webhooks (auditors) see only the
/// scheme and host of its URL, since the URL itself can be a credential.
fn as_seen_by(mut hook: Webhook, caller: &sentinel_core::Principal) -> Webhook {
    if !caller.may(hook.tenant_id, sentinel_core::Permission::Manage) {
        let scheme = hook.url.split("://").next().unwrap_or("https").to_string();
        hook.url = format!("{scheme}://{}/…", url_host(&hook.url).unwrap_or_default());
    }
    hook
}

/// A tenant's webhooks (never their secrets; auditors see only the URLs' hosts).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/webhooks", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant slug or id")),
    security(("api_key" = [])), responses((status = 200, body = Vec<Webhook>)))]
async fn list_webhooks(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
) -> ApiResult<Json<Vec<Webhook>>> {
    let hooks = state.store.webhooks(access.tenant.id).await?;
    Ok(Json(
        hooks
            .into_iter()
            .map(|h| as_seen_by(h, &access.caller))
            .collect(),
    ))
}

/// One webhook, by id or name.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/webhooks/{webhook}", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("webhook" = String, Path, description = "Webhook id or name")),
    security(("api_key" = [])), responses((status = 200, body = Webhook)))]
async fn get_webhook(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<Webhook>> {
    let hook = find(&state, access.tenant.id, &path.1).await?;
    Ok(Json(as_seen_by(hook, &access.caller)))
}

/// Change a webhook: its name, URL, format, event types, or pause it (`active: false`).
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/webhooks/{webhook}", tag = "webhooks",
    request_body = WebhookPatch,
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("webhook" = String, Path, description = "Webhook id or name")),
    security(("api_key" = [])), responses((status = 200, body = Webhook)))]
async fn update_webhook(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
    ValidJson(patch): ValidJson<WebhookPatch>,
) -> ApiResult<Json<Webhook>> {
    let mut hook = find(&state, access.tenant.id, &path.1).await?;
    let WebhookPatch {
        name,
        url,
        format,
        events,
        active,
    } = patch;
    hook.name = name.unwrap_or(hook.name);
    hook.url = url.unwrap_or(hook.url);
    hook.format = format.unwrap_or(hook.format);
    hook.events = events.map(dedup).unwrap_or(hook.events);
    hook.active = active.unwrap_or(hook.active);
    save(&state, &access, "update", &hook).await?;
    Ok(Json(hook))
}

/// Records and stores a changed webhook.
async fn save(
    state: &AppState,
    access: &TenantAccess<Manage>,
    action: &str,
    hook: &Webhook,
) -> ApiResult<()> {
    record(state, access, action, hook).await?;
    if !state.store.update_webhook(hook).await? {
        return Err(ApiError::not_found(format!("webhook {:?}", hook.name)));
    }
    state.notifier.webhooks_changed(access.tenant.id);
    tracing::info!(webhook = %hook.id, %action, by = %access.caller.key_id, "webhook changed");
    Ok(())
}

/// Delete a webhook and its delivery log.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/webhooks/{webhook}", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("webhook" = String, Path, description = "Webhook id or name")),
    security(("api_key" = [])), responses((status = 204, description = "Deleted")))]
async fn delete_webhook(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let hook = find(&state, access.tenant.id, &path.1).await?;
    record(&state, &access, "delete", &hook).await?;
    state
        .store
        .delete_webhook(access.tenant.id, hook.id)
        .await?;
    state.notifier.webhooks_changed(access.tenant.id);
    tracing::info!(webhook = %hook.id, by = %access.caller.key_id, "webhook deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's delivery log, oldest first: status, attempts, the last answer or error.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/webhooks/{webhook}/deliveries", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("webhook" = String, Path, description = "Webhook id or name"), PageParams),
    security(("api_key" = [])), responses((status = 200, body = Page<Delivery>)))]
async fn list_deliveries(
    State(state): State<AppState>,
    access: TenantAccess<Read>,
    ValidPath(path): ValidPath<(String, String)>,
    ValidQuery(page): ValidQuery<PageParams>,
) -> ApiResult<Json<Page<Delivery>>> {
    let page = page.to_request()?;
    let hook = find(&state, access.tenant.id, &path.1).await?;
    Ok(Json(
        state
            .store
            .deliveries(access.tenant.id, hook.id, page)
            .await?,
    ))
}

/// Queue a `webhook.test` event to the webhook (whatever event types it is subscribed to).
/// The answer is the queued delivery; follow it in the delivery log.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/webhooks/{webhook}/test", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("webhook" = String, Path, description = "Webhook id or name")),
    security(("api_key" = [])), responses((status = 202, body = Delivery)))]
async fn test_webhook(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let hook = find(&state, access.tenant.id, &path.1).await?;
    let event = Event {
        id: format!("test-{}", new_id().simple()),
        kind: WEBHOOK_TEST,
        time: ids::now()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        tenant_id: Some(access.tenant.id),
        agent_id: None,
        data: serde_json::json!({
            "webhook": hook.name,
            "tenant": access.tenant.slug,
            "message": "A test notification from Sentinel: this webhook is reachable.",
        })
        .into(),
    };
    let delivery = state.notifier.delivery(&hook, &event);
    state
        .notifier
        .enqueue(std::slice::from_ref(&delivery))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}

/// Replace a webhook's signing secret. The old one stops working at once, for queued retries
/// too: update the receiver right after.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/webhooks/{webhook}/rotate-secret", tag = "webhooks",
    params(("tenant" = String, Path, description = "Tenant slug or id"),
           ("webhook" = String, Path, description = "Webhook id or name")),
    security(("api_key" = [])), responses((status = 200, body = WebhookWithSecret)))]
async fn rotate_secret(
    State(state): State<AppState>,
    access: TenantAccess<Manage>,
    ValidPath(path): ValidPath<(String, String)>,
) -> ApiResult<Json<WebhookWithSecret>> {
    let mut hook = find(&state, access.tenant.id, &path.1).await?;
    hook.secret_version += 1;
    save(&state, &access, "rotate_secret", &hook).await?;
    let secret = state.notifier.secret(&hook);
    Ok(Json(WebhookWithSecret {
        webhook: hook,
        secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(url("url", "https://hooks.slack.com/services/T/B/x").is_ok());
        assert!(url("url", "http://127.0.0.1:9000/hook").is_ok());
        for bad in [
            "ftp://x/",
            "hooks.slack.com",
            "http://",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(url("url", bad).is_err(), "{bad}");
        }
        assert!(url("url", &format!("https://x/{}", "a".repeat(MAX_TEXT))).is_err());
    }

    #[test]
    fn event_lists_name_known_types_or_star() {
        assert!(events("events", &["*".into()]).is_ok());
        assert!(events(
            "events",
            &["approval.requested".into(), "kill.activated".into()]
        )
        .is_ok());
        assert!(events("events", &[]).is_err());
        let e = events(
            "events",
            &["kill.activated".into(), "approval.request".into()],
        )
        .unwrap_err();
        assert_eq!(e.field, "events[1]");
    }
}
