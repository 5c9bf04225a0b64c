//! Opening a store from a URL, with the connection settings each dialect needs.

use std::path::PathBuf;
use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::Executor;

use crate::audit_journal::JournalFiles;
use crate::journaled::Journal;
use crate::{SqlStore, Store, StoreError};

/// The SQL dialect behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of_url(url: &str) -> Result<Dialect, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Dialect::Postgres)
        } else {
            Err(StoreError::Unavailable(format!(
                "unsupported database URL scheme in {:?}: use sqlite://PATH or postgres://…",
                redact_url(url)
            )))
        }
    }
}

/// How a store is opened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreOptions {
    /// On a SQLite file: make audit appends durable in a journal beside the database and apply
    /// them to the tables behind it (see the `journaled` module). Off, every audit commit waits
    /// for SQLite's own fsync. No effect on PostgreSQL.
    pub audit_journal: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            audit_journal: true,
        }
    }
}

/// Opens the database at `url`, creating it (SQLite) and applying migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, StoreOptions::default()).await
}

/// [`open`] with options.
pub async fn open_with(url: &str, options: StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqlStore::connect_with(url, options).await?))
}

/// The file a SQLite URL names, unless it is an in-memory database.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

impl SqlStore {
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        SqlStore::connect_with(url, StoreOptions::default()).await
    }

    pub async fn connect_with(
        url: &str,
        store_options: StoreOptions,
    ) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url)?;
        // Opened when on, and when off but left behind by a run that had it on: what the
        // tables lack is replayed either way.
        let journaled_file = match dialect {
            Dialect::Sqlite => sqlite_file(url)
                .filter(|f| store_options.audit_journal || JournalFiles::paths_for(f)[0].exists()),
            Dialect::Postgres => None,
        };
        let fresh = journaled_file.as_ref().is_some_and(|f| !f.exists());
        let url = match dialect {
            // `mode=rwc` creates the file on first start.
            Dialect::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", redact_url(&url))))?;
        let pool = pool_options(
            dialect,
            match dialect {
                Dialect::Sqlite => 4,
                Dialect::Postgres => 16,
            },
        )
        .connect_with(options.clone())
        .await
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", redact_url(&url))))?;
        let writer = match dialect {
            Dialect::Sqlite => pool_options(dialect, 1)
                .connect_with(options)
                .await
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", redact_url(&url))))?,
            Dialect::Postgres => pool.clone(),
        };
        // One set of migrations: the schema uses only types and syntax both dialects share.
        sqlx::migrate!("./migrations")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let store = SqlStore::new(pool, writer, dialect);
        match journaled_file {
            Some(file) => match Journal::open(&store, &file, fresh).await? {
                // Replayed; dropping it lets go of the files.
                Journal::On(_) if !store_options.audit_journal => Ok(store),
                journal => Ok(store.with_journal(journal)),
            },
            None => Ok(store),
        }
    }
}

/// Pool settings for `dialect`, with the per-connection settings SQLite needs.
fn pool_options(dialect: Dialect, connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if dialect == Dialect::Sqlite {
                    // WAL lets readers run beside the single writer; FULL sync makes every
                    // commit survive power loss, not only a killed process.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_urls_name_their_file_unless_in_memory() {
        use std::path::PathBuf;
        let file = |u| super::sqlite_file(u);
        assert_eq!(
            file("sqlite:///var/x/s.db?mode=rwc"),
            Some(PathBuf::from("/var/x/s.db"))
        );
        assert_eq!(file("sqlite://data/s.db"), Some(PathBuf::from("data/s.db")));
        assert_eq!(file("sqlite:s.db"), Some(PathBuf::from("s.db")));
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("sqlite://x.db?mode=memory&cache=shared"), None);
    }

    #[test]
    fn passwords_never_reach_messages() {
        let r = super::redact_url("postgres://bob:hunter2@db:5432/x");
        assert_eq!(r, "postgres://bob:***@db:5432/x");
        assert!(!r.contains("hunter2"));
    }
}
