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
}

impl AppState {
    /// Opens the configured store (creating the data directory) and builds the state.
    pub async fn open(config: &Config) -> anyhow::Result<AppState> {
        crate::bootstrap::create_data_dir(&config.data_dir)?;
        let store = sentinel_store::open(&config.database_url()).await?;
        Ok(AppState::new(store, config.clone()))
    }

    pub fn new(store: Arc<dyn Store>, config: Config) -> AppState {
        AppState {
            store,
            keys: KeyCache::default(),
            config: Arc::new(config),
        }
    }
}
