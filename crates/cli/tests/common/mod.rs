//! Driving the real `sentinel` binary: a server on a free loopback port with its own data
//! directory, and the client commands pointed at it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub data: PathBuf,
}

impl Drop for Server {
    /// A test that fails midway does not leave its server running.
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    /// SIGKILL: no shutdown, no flushing — a crash.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

pub fn sentinel() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sentinel"))
}

/// Starts `sentinel serve` on a free port with `data` as its data directory.
/// Whether a Sentinel answers `GET /health` on `port`. A bare TCP connect is not enough: the
/// port came from the ephemeral range, and a connect to it before the server listens can pick
/// that same port as its source and "succeed" by connecting to itself.
fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

pub fn start(data: &Path) -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    start_on(data, port)
}

/// Starts `sentinel serve` on `port` (a restart where clients expect it).
pub fn start_on(data: &Path, port: u16) -> Server {
    let child = sentinel()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log-format",
            "json",
        ])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthy(port) {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child: Some(child),
        url,
        data: data.to_path_buf(),
    }
}

/// Stops the server with SIGTERM and returns what it printed.
pub fn stop(mut server: Server) -> Output {
    let mut child = server.child.take().expect("running");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no graceful shutdown on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Runs a client command against `server` with the admin key from its data directory.
pub fn run(server: &Server, args: &[&str]) -> Output {
    sentinel()
        .args(args)
        .env("SENTINEL_URL", &server.url)
        .env("SENTINEL_DATA_DIR", &server.data)
        .env_remove("SENTINEL_API_KEY")
        .output()
        .unwrap()
}

/// Runs a client command against `server` with the given key.
pub fn run_as(server: &Server, key: &str, args: &[&str]) -> Output {
    sentinel()
        .args(args)
        .env("SENTINEL_URL", &server.url)
        .env("SENTINEL_API_KEY", key)
        .env_remove("SENTINEL_DATA_DIR")
        .output()
        .unwrap()
}

/// Asserts success and returns stdout.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Tenant `acme` with agent `bot` under the shipped SRE policy; returns the agent's key.
pub fn acme_with_agent(server: &Server) -> String {
    let sre = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/sre");
    ok(run(server, &["tenants", "create", "acme"]));
    ok(run(server, &["agents", "create", "-t", "acme", "bot"]));
    ok(run(
        server,
        &["policy", "push", sre, "-t", "acme", "--activate"],
    ));
    let created = ok(run(
        server,
        &[
            "keys", "create", "-t", "acme", "--role", "agent", "--agent", "bot", "-o", "json",
        ],
    ));
    let created: serde_json::Value = serde_json::from_str(&created).expect("key JSON");
    created["secret"].as_str().expect("a secret").to_string()
}
