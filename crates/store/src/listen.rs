//! Change notices between cluster nodes that share a PostgreSQL database: a node that kills,
//! restores or activates something announces it with `NOTIFY`, and every node listening
//! re-reads that state at once instead of waiting for its next poll. SQLite has one node, so
//! there is nothing to listen to.

use sqlx::postgres::PgListener;

use crate::{Dialect, Result, StoreError};

/// The PostgreSQL channel of change notices.
pub const CHANNEL: &str = "sentinel_changes";

/// A dedicated connection that waits for change notices.
pub struct ChangeListener {
    inner: PgListener,
}

impl ChangeListener {
    /// Listens on the database at `url`; `None` for SQLite.
    pub async fn connect(url: &str) -> Result<Option<ChangeListener>> {
        if Dialect::of_url(url)? != Dialect::Postgres {
            return Ok(None);
        }
        let mut inner = PgListener::connect(url).await?;
        inner.listen(CHANNEL).await?;
        Ok(Some(ChangeListener { inner }))
    }

    /// Waits for the next notice. After a lost connection it reconnects (notices sent while it
    /// was gone are lost, which is why nodes also poll) and returns, so the caller re-reads.
    pub async fn changed(&mut self) -> Result<()> {
        self.inner
            .recv()
            .await
            .map(|_| ())
            .map_err(|e| StoreError::Unavailable(format!("change notices: {e}")))
    }
}
