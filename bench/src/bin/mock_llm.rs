//! The mock LLM provider as a server (see `sentinel_testkit::mock_llm` for what it answers):
//! OpenAI chat completions, embeddings and models, and Anthropic messages, streaming or not.
//!
//! ```sh
//! mock_llm --listen 127.0.0.1:9100 --latency-ms 0 --chunk-delay-ms 5 --chunk-chars 8
//! curl -s localhost:9100/v1/chat/completions -d '{"model":"m","messages":[{"role":"user","content":"hi"}]}' -H 'content-type: application/json'
//! ```

use std::time::Duration;

use sentinel_bench::flags::Flags;
use sentinel_testkit::mock_llm::{MockLlm, MockOptions};

const USAGE: &str =
    "mock_llm [--listen ADDR (127.0.0.1:9100)] [--latency-ms MS (0)] [--chunk-delay-ms MS (0)]
         [--chunk-chars N (8)] [--api-key KEY (any)] [--record true|false (false)]
A local mock of the OpenAI and Anthropic wire protocols, for benchmarks and demos.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let listen: std::net::SocketAddr = flags.get("listen", "127.0.0.1:9100".parse()?)?;
    let options = MockOptions {
        latency: Duration::from_millis(flags.get("latency-ms", 0)?),
        chunk_delay: Duration::from_millis(flags.get("chunk-delay-ms", 0)?),
        chunk_chars: flags.get("chunk-chars", 8)?,
        api_key: flags.text("api-key").map(String::from),
        record: flags.get("record", false)?,
    };
    flags.finish()?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let mock = MockLlm::serve_on(listener, options);
    eprintln!("mock LLM provider on {}", mock.base_url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
