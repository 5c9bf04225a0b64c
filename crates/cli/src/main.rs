//! `sentinel`: runs the governance server and drives a running one from the command line.

mod approvals;
mod audit;
mod bundle_dir;
mod check;
mod client;
mod config;
mod control;
mod decisions;
mod events;
mod manifest;
mod mcp;
mod output;
mod policy;
mod policy_test;
mod resources;
mod secrets;
mod server;
mod simulate;
mod sse;
mod webhooks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: under `/v1/check` load glibc's allocator took about a
/// fifth of the server's CPU (arena locking, `malloc_consolidate`), mimalloc's thread-local free
/// lists much less (measured in docs/benchmarks.md, "Server overhead of a check").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps the process off transparent huge pages. mimalloc commits its arena eagerly and marks
/// it for huge pages, so wherever THP is `madvise` or `always` every touched 2 MiB of heap
/// became resident whole: an idle server held ~95 MB instead of ~60 MB (`memory_soak`, in
/// docs/benchmarks.md), with no measurable difference in CPU per check.
fn without_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only this process's flag.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

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
    /// Write, test, validate, push, activate, simulate and shadow a tenant's Rego policy.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Fetch, verify and prove the tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The approval queue: list held actions, approve or deny them.
    #[command(subcommand)]
    Approvals(approvals::ApprovalCommand),
    /// Verify signed provenance manifests of executed actions.
    #[command(subcommand)]
    Manifest(manifest::ManifestCommand),
    /// Follow the live event stream.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Send a tenant's events to webhooks (generic JSON or Slack); see their deliveries.
    #[command(subcommand)]
    Webhooks(webhooks::WebhookCommand),
    /// The MCP gateway: upstream MCP servers, pinned tool definitions, and a stdio bridge.
    #[command(subcommand)]
    Mcp(mcp::McpCommand),
    /// Write-only credentials that MCP servers and LLM providers are called with.
    #[command(subcommand)]
    Secrets(secrets::SecretCommand),
    // The commands below take their help from their argument structs.
    Check(check::CheckArgs),
    Decisions(decisions::DecisionsArgs),
    Kill(control::KillArgs),
    Restore(control::RestoreArgs),
    Kills(control::KillsArgs),
}

fn main() -> ExitCode {
    without_transparent_huge_pages();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_) | Command::Init(_)) {
        die_quietly_on_closed_pipes();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let done = |()| ExitCode::SUCCESS;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => server::serve(args).await.map(done),
            Command::Init(args) => server::init(args).await.map(done),
            Command::Tenants(c) => resources::tenants(c).await.map(done),
            Command::Agents(c) => resources::agents(c).await.map(done),
            Command::Tools(c) => resources::tools(c).await.map(done),
            Command::Keys(c) => resources::keys(c).await.map(done),
            Command::Whoami(args) => resources::whoami(args).await.map(done),
            Command::Policy(c) => policy::policy(c).await,
            Command::Audit(c) => audit::audit(c).await.map(done),
            Command::Approvals(c) => approvals::approvals(c).await.map(done),
            Command::Manifest(c) => manifest::manifest(c).map(done),
            Command::Events(c) => events::events(c).await.map(done),
            Command::Webhooks(c) => webhooks::webhooks(c).await.map(done),
            Command::Mcp(c) => mcp::mcp(c).await.map(done),
            Command::Secrets(c) => secrets::secrets(c).await.map(done),
            Command::Check(args) => check::check(args).await,
            Command::Decisions(args) => decisions::decisions(args).await.map(done),
            Command::Kill(args) => control::kill(args).await.map(done),
            Command::Restore(args) => control::restore(args).await.map(done),
            Command::Kills(args) => control::kills(args).await.map(done),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `sentinel decisions -t acme | head` ends like any Unix tool when `head` closes the pipe,
/// instead of panicking in `println!`. Not for the server, which must survive closed sockets.
fn die_quietly_on_closed_pipes() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
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
