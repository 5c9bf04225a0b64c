//! The HTTP routes, one resource per file. [`authenticated`] holds every route that needs a key;
//! [`public`] only the health probes.

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub mod agents;
pub mod approvals;
pub mod audit;
pub mod check;
pub mod events;
pub mod health;
pub mod keys;
pub mod kills;
pub mod llm;
pub mod mcp_servers;
pub mod policies;
pub mod provenance;
pub mod scan;
pub mod secrets;
pub mod tenants;
pub mod tools;
pub mod webhooks;
pub mod whoami;

pub fn authenticated() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(tenants::routes())
        .merge(agents::routes())
        .merge(tools::routes())
        .merge(keys::routes())
        .merge(whoami::routes())
        .merge(check::routes())
        .merge(kills::routes())
        .merge(approvals::routes())
        .merge(policies::routes())
        .merge(scan::routes())
        .merge(audit::routes())
        .merge(provenance::routes())
        .merge(events::routes())
        .merge(webhooks::routes())
        .merge(llm::routes())
        .merge(mcp_servers::routes())
        .merge(secrets::routes())
        .merge(health::operations())
}

pub fn public() -> OpenApiRouter<AppState> {
    health::probes()
}

/// `201 Created` with the new record.
pub type Created<T> = (axum::http::StatusCode, axum::Json<T>);

pub fn created<T>(value: T) -> Created<T> {
    (axum::http::StatusCode::CREATED, axum::Json(value))
}
