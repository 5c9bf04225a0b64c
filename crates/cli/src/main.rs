//! `sentinel`: runs the governance server and drives a running one from the command line.

mod client;
mod config;
mod output;
mod resources;
mod server;

use clap::{Parser, Subcommand};

/// Sentinel — a governance control plane and gateway for AI agents.
///
/// Start a server on the embedded default (a SQLite file in ./sentinel-data) with
/// `sentinel serve`; the first start prints an admin API key and saves it in the data directory.
/// The other commands talk to a running server: they read its URL from --url / SENTINEL_URL and
/// a key from --api-key / SENTINEL_API_KEY (or the admin key file in --data-dir).
#[derive(Parser)]
#[command(
    name = "sentinel",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates the data directory and an admin key on first start).
    Serve(server::ServeArgs),
    /// Create the data directory, database and admin key, then exit.
    Init(server::ServeArgs),
    /// Manage tenants (admin key needed to create and delete).
    #[command(subcommand)]
    Tenants(resources::TenantCommand),
    /// Manage the agents of a tenant.
    #[command(subcommand)]
    Agents(resources::AgentCommand),
    /// Manage the tools of a tenant.
    #[command(subcommand)]
    Tools(resources::ToolCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(resources::KeyCommand),
    /// Show what the configured key is.
    Whoami(client::ClientArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => server::serve(args).await,
            Command::Init(args) => server::init(args).await,
            Command::Tenants(c) => resources::tenants(c).await,
            Command::Agents(c) => resources::agents(c).await,
            Command::Tools(c) => resources::tools(c).await,
            Command::Keys(c) => resources::keys(c).await,
            Command::Whoami(args) => resources::whoami(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
