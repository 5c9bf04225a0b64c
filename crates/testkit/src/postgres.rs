//! A throwaway PostgreSQL server for one test process.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running server; see [`postgres`].
pub struct Postgres {
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

static SERVER: OnceLock<Postgres> = OnceLock::new();

/// The process's server, started on first use.
pub fn postgres() -> &'static Postgres {
    SERVER.get_or_init(|| Postgres::start().unwrap_or_else(|e| panic!("PostgreSQL for tests: {e}")))
}

impl Postgres {
    /// A new, empty database; returns its URL.
    pub fn fresh_database(&self) -> String {
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self
                .command("createdb")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "postgres",
                    &name,
                ])
                .output()
                .expect("run createdb");
            if out.status.success() {
                break;
            }
            // The server accepts connections a little before it accepts queries.
            if Instant::now() > deadline {
                panic!("createdb failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Drops a database while clients are connected to it (for fail-closed tests: the store
    /// becomes unavailable under a running server).
    pub fn drop_database(&self, url: &str) {
        let name = url.rsplit('/').next().expect("database name");
        let out = self
            .command("dropdb")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "--force",
                name,
            ])
            .output()
            .expect("run dropdb");
        assert!(
            out.status.success(),
            "dropdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn start() -> Result<Postgres, String> {
        let bin = find_bin_dir().ok_or(
            "no initdb found in PATH or /usr/lib/postgresql/*/bin: \
             install Debian's `postgresql` package (scripts/test.sh does)",
        )?;
        // PostgreSQL refuses to run as root; as root we run it as the `postgres` user that
        // Debian's package creates.
        let as_postgres_user = is_root();
        let dir = tempfile::Builder::new()
            .prefix("sentinel-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        if as_postgres_user {
            run(Command::new("chown").args(["postgres:postgres", &dir.display().to_string()]))?;
        }
        let pg = Postgres {
            bin,
            port: free_port()?,
            as_postgres_user,
        };
        let data = dir.join("data");
        run(pg.command("initdb").args([
            "-D",
            &data.display().to_string(),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ]))?;
        pg.spawn_with_watchdog(&dir, &data)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", pg.port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("server did not listen; see {}/log", dir.display()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(pg)
    }

    /// Starts `postgres` under a shell that stops it and removes its files once this test
    /// process is gone.
    fn spawn_with_watchdog(&self, dir: &Path, data: &Path) -> Result<(), String> {
        let script = format!(
            "'{bin}/postgres' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 \
             -c fsync=off -c synchronous_commit=off -c max_connections=200 > '{dir}/log' 2>&1 &\n\
             pg=$!\n\
             while [ -d /proc/{watch} ] && kill -0 $pg 2>/dev/null; do sleep 0.5; done\n\
             kill -INT $pg 2>/dev/null; wait $pg; rm -rf '{dir}'\n",
            bin = self.bin.display(),
            data = data.display(),
            dir = dir.display(),
            port = self.port,
            watch = std::process::id(),
        );
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c", &script]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.spawn().map_err(|e| format!("start postgres: {e}"))?;
        Ok(())
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Debian puts the server binaries in /usr/lib/postgresql/VERSION/bin, outside PATH.
fn find_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists() && p.join("postgres").exists())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop().or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .find(|p| p.join("initdb").exists() && p.join("postgres").exists())
        })
    })
}
