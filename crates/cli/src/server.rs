//! `sentinel serve` and `sentinel init`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use sentinel_server::{AppState, Config, LogFormat};

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// Configuration file [default: ./sentinel.toml when present]
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8787] [env: SENTINEL_LISTEN]
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory [default: ./sentinel-data] [env: SENTINEL_DATA_DIR]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data directory]
    /// [env: SENTINEL_DATABASE_URL]
    #[arg(long)]
    database_url: Option<String>,
    /// Log filter, e.g. info or sentinel_server=debug [env: SENTINEL_LOG_LEVEL]
    #[arg(long)]
    log_level: Option<String>,
    /// Log format: json or text [env: SENTINEL_LOG_FORMAT]
    #[arg(long, value_parser = ["json", "text"])]
    log_format: Option<String>,
}

impl ServeArgs {
    fn config(self) -> anyhow::Result<Config> {
        let mut flags = serde_json::Map::new();
        let mut set = |k: &str, v: Option<serde_json::Value>| {
            if let Some(v) = v {
                flags.insert(k.into(), v);
            }
        };
        set("listen", self.listen.map(|v| v.to_string().into()));
        set(
            "data_dir",
            self.data_dir.map(|v| v.display().to_string().into()),
        );
        set("database_url", self.database_url.map(Into::into));
        set("log_level", self.log_level.map(Into::into));
        set("log_format", self.log_format.map(Into::into));
        crate::config::load(self.config, flags.into())
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
        LogFormat::Text => builder.init(),
    }
}

/// Opens the store and makes sure an admin key exists, printing it when it is new.
async fn prepare(config: &Config) -> anyhow::Result<AppState> {
    let state = AppState::open(config).await?;
    let path = config.admin_key_path();
    if let Some(key) =
        sentinel_server::bootstrap::ensure_admin_key(state.store.as_ref(), &path).await?
    {
        println!("Created an admin API key. It is shown only this once, and saved (mode 0600) in");
        println!("  {}", path.display());
        println!();
        println!("  {key}");
        println!();
    }
    Ok(state)
}

pub async fn init(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    init_logging(&config);
    prepare(&config).await?;
    println!("Sentinel is initialised in {}", config.data_dir.display());
    Ok(())
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    init_logging(&config);
    let state = prepare(&config).await?;
    eprintln!(
        "Sentinel listening on http://{} (database: {})",
        config.listen,
        sentinel_store::redact_url(&config.database_url())
    );
    sentinel_server::serve(config, state, shutdown_signal()).await
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate => {},
    }
}
