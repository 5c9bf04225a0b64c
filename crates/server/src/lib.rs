//! Sentinel's HTTP API.
//!
//! [`app`] builds the whole service as a value (no global state but the metrics recorder), so
//! that tests can drive it over a real socket and `sentinel serve` can run it; [`serve`] adds the
//! listener and graceful shutdown. Routes live one resource per file under `routes/`; every route
//! but the health probes sits behind the authentication middleware.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let config = sentinel_server::Config::default();
//! let state = sentinel_server::AppState::open(&config).await?;
//! sentinel_server::serve(config, state, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod bootstrap;
pub mod cluster;
pub mod config;
pub mod extract;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod problem;
pub mod routes;
mod serve;
mod state;
pub mod stream;

pub use config::{Config, LogFormat};
pub use serve::{app, serve};
pub use state::AppState;
