//! A minimal open- and closed-loop HTTP/1.1 load generator (prebuilt request bytes,
//! `Content-Length` framing, one thread), shared by the HTTP benchmarks.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::stats::Percentiles;

/// Runs `load` to completion on this one thread (a current-thread runtime with a `LocalSet`, so
/// connections can be `!Send` tasks): the generator leaves the other core to the server.
pub fn on_one_thread<F: std::future::Future>(load: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(tokio::task::LocalSet::new().block_on(&rt, load))
}

/// A server under load, and its process (for its CPU time) when it is ours.
pub struct Target {
    pub addr: SocketAddr,
    pub pid: Option<u32>,
}

impl Target {
    /// User + system CPU time the server has used so far (zero when its pid is unknown).
    pub fn cpu_time(&self) -> Duration {
        self.pid
            .map(|pid| cpu_time_of(&format!("/proc/{pid}/stat")))
            .unwrap_or_default()
    }
}

pub fn cpu_time_of(stat_path: &str) -> Duration {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).unwrap_or(&0) + f.get(12).unwrap_or(&0);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// A keep-alive HTTP/1.1 connection that sends prebuilt requests.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends `request` and reads one response; returns its status.
    pub async fn roundtrip(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                let status: u16 = head.get(9..12).context("status line")?.parse()?;
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .context("response without Content-Length")?;
                let total = end + 4 + length;
                while self.buf.len() < total {
                    let n = self.stream.read(&mut chunk).await?;
                    if n == 0 {
                        bail!("connection closed mid-body");
                    }
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                return Ok(status);
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("connection closed");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub fn request(
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(k) = key {
        r.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    if !body.is_empty() {
        r.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    r.push_str("\r\n");
    r.push_str(&body);
    r.into_bytes()
}

/// What one load run saw.
pub struct RunResult {
    pub latency: Percentiles,
    pub per_second: f64,
    pub errors: usize,
    pub server_cpu_us_per_request: f64,
}

/// Closed loop: every connection sends its next request when the last answer arrives.
pub async fn closed_loop(
    server: &Target,
    request: &Rc<Vec<u8>>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<RunResult> {
    let mut conns = Vec::new();
    for _ in 0..connections {
        conns.push(Conn::open(server.addr).await?);
    }
    let cpu_before = server.cpu_time();
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut c| {
            let req = request.clone();
            tokio::task::spawn_local(async move {
                let (mut samples, mut errors) = (Vec::with_capacity(100_000), 0usize);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match c.roundtrip(&req).await {
                        Ok(200) => samples.push(t.elapsed().as_nanos() as u64),
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            break;
                        }
                    }
                }
                (samples, errors)
            })
        })
        .collect();
    finish(server, tasks, started, cpu_before).await
}

/// Open loop at `rate` requests/s spread over the connections. A request's latency starts at its
/// scheduled time if its connection was still busy then (the server's backlog counts), else at
/// the moment it was sent (the generator's own timer slack does not).
pub async fn open_loop(
    server: &Target,
    request: &Rc<Vec<u8>>,
    connections: usize,
    duration: Duration,
    rate: f64,
) -> anyhow::Result<RunResult> {
    let mut conns = Vec::new();
    for _ in 0..connections {
        conns.push(Conn::open(server.addr).await?);
    }
    let interval = Duration::from_secs_f64(connections as f64 / rate);
    let cpu_before = server.cpu_time();
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(k, mut c)| {
            let req = request.clone();
            let first = started + Duration::from_secs_f64(k as f64 / rate);
            tokio::task::spawn_local(async move {
                let (mut samples, mut errors) = (Vec::with_capacity(100_000), 0usize);
                let mut scheduled = first;
                let mut last_done = started;
                while scheduled < deadline {
                    tokio::time::sleep_until(scheduled.into()).await;
                    let sent = Instant::now();
                    let from = if last_done > scheduled {
                        scheduled
                    } else {
                        sent
                    };
                    match c.roundtrip(&req).await {
                        Ok(200) => {
                            last_done = Instant::now();
                            samples.push((last_done - from).as_nanos() as u64);
                        }
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            break;
                        }
                    }
                    scheduled += interval;
                }
                (samples, errors)
            })
        })
        .collect();
    finish(server, tasks, started, cpu_before).await
}

async fn finish(
    server: &Target,
    tasks: Vec<tokio::task::JoinHandle<(Vec<u64>, usize)>>,
    started: Instant,
    cpu_before: Duration,
) -> anyhow::Result<RunResult> {
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (s, e) = t.await?;
        all.extend(s);
        errors += e;
    }
    let wall = started.elapsed();
    let cpu = server.cpu_time().saturating_sub(cpu_before);
    let n = all.len().max(1);
    Ok(RunResult {
        per_second: all.len() as f64 / wall.as_secs_f64(),
        server_cpu_us_per_request: cpu.as_secs_f64() * 1e6 / n as f64,
        latency: Percentiles::of(&mut all),
        errors,
    })
}
