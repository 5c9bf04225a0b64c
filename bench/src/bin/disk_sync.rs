//! The disk's floor for a durable write: how long one small write plus `fdatasync` takes.
//!
//! Sentinel sequences every decision durably before the action runs (DESIGN.md), so at low load
//! — one call at a time, nothing to batch — each MCP tool call or check waits for one SQLite
//! commit, and no gateway on this disk can add less latency than this. Two patterns:
//! - **append**: 4 KiB at the end of a growing file, as SQLite's WAL grows between checkpoints
//!   (the file size changes, so the filesystem journals metadata too);
//! - **overwrite**: 4 KiB rewritten in a preallocated file, as the WAL is reused after a
//!   checkpoint reset (only data to flush).
//!
//! `disk_sync [--writes N] [--runs R] [--dir PATH]` (the directory defaults to `$TMPDIR`, so
//! `TMPDIR=/dev/shm` shows a RAM-backed filesystem for comparison). Prints the median of runs.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;

use sentinel_bench::flags::Flags;
use sentinel_bench::stats::Percentiles;

const BLOCK: usize = 4096;

const USAGE: &str = "disk_sync [--writes N (2000)] [--runs R (3)] [--dir PATH ($TMPDIR)]
Latency of a 4 KiB write + fdatasync, appending and overwriting: the disk's floor for a durable commit.";

fn main() -> anyhow::Result<()> {
    let flags = Flags::from_env(USAGE)?;
    let writes: usize = flags.get("writes", 2000)?;
    let runs: usize = flags.get("runs", 3)?;
    let dir = flags.text("dir").map(String::from);
    flags.finish()?;
    anyhow::ensure!(
        writes > 0 && runs > 0,
        "--writes and --runs must be positive"
    );
    let dir = match dir {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    println!(
        "4 KiB write + fdatasync in {}: {writes} writes per run, median of {runs} runs",
        dir.path().display()
    );
    for (name, pattern) in [
        ("append", Pattern::Append),
        ("overwrite", Pattern::Overwrite),
    ] {
        let per_run = (0..runs)
            .map(|run| measure(&dir.path().join(format!("{name}-{run}")), pattern, writes))
            .collect::<anyhow::Result<Vec<_>>>()?;
        println!("{name:>10}: {}", Percentiles::median_of(&per_run));
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Pattern {
    Append,
    Overwrite,
}

/// Times `writes` durable writes to a new file at `path` (nanoseconds each).
fn measure(path: &Path, pattern: Pattern, writes: usize) -> anyhow::Result<Percentiles> {
    let mut file = OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)?;
    let block = [0x5au8; BLOCK];
    // A region to overwrite, already on disk: 64 blocks cycled through, like a reused WAL.
    const REGION: usize = 64;
    if let Pattern::Overwrite = pattern {
        for _ in 0..REGION {
            file.write_all(&block)?;
        }
        file.sync_all()?;
    }
    let mut samples = Vec::with_capacity(writes);
    for i in 0..writes {
        let started = Instant::now();
        match pattern {
            Pattern::Append => {
                file.seek(SeekFrom::End(0))?;
                file.write_all(&block)?;
            }
            Pattern::Overwrite => file.write_all_at(&block, ((i % REGION) * BLOCK) as u64)?,
        }
        file.sync_data()?;
        samples.push(started.elapsed().as_nanos() as u64);
    }
    Ok(Percentiles::of(&mut samples))
}
