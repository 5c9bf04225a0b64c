//! Test harness for Sentinel's suites: real databases, never mocks.
//!
//! [`postgres`] starts one throwaway PostgreSQL server per test process from Debian's
//! `postgresql` binaries (`initdb` into a temporary directory, a free loopback port) and hands
//! out a fresh database per test. A watchdog shell stops the server and deletes its files when
//! the test process exits, however it exits. When the binaries are missing the tests fail with a
//! message saying what to install: they never skip silently.
//!
//! [`mock_llm`] is the one mock: an LLM provider speaking the OpenAI and Anthropic wire formats,
//! for the LLM gateway's tests and benchmarks.
//!
//! ```no_run
//! let url = sentinel_testkit::postgres().fresh_database(); // postgres://postgres@127.0.0.1:PORT/t_…
//! let (_dir, sqlite) = sentinel_testkit::sqlite();          // sqlite:///tmp/…/sentinel.db
//! ```

pub mod mock_llm;
mod postgres;

pub use postgres::{postgres, Postgres};

/// A new SQLite database file in a temporary directory; the directory lives as long as the
/// returned guard.
pub fn sqlite() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/sentinel.db", dir.path().display());
    (dir, url)
}
