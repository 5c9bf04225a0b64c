//! Sentinel's benchmark helpers; the benchmarks themselves are binaries in `src/bin/`, and
//! `bench/run.sh` runs them all. Results and the commands that reproduce them are in
//! `docs/benchmarks.md`.
//!
//! - [`audit_sample`]: the audit entry the audit benchmarks append.
//! - [`policy100`]: a generated 100-rule Rego bundle and the actions that exercise it.
//! - [`stats`]: latency percentiles and medians over repeated runs.
//! - [`flags`]: the binaries' `--name value` flags.
//! - [`server`]: a `sentinel serve` process set up for the HTTP benchmarks.
//! - [`server_metrics`]: the server's own timings over a run, from its `/metrics`.
//!
//! ```
//! let bundle = sentinel_bench::policy100::bundle();
//! sentinel_policy::CompiledPolicy::compile(&bundle, Default::default()).unwrap();
//! let p = sentinel_bench::stats::Percentiles::of(&mut vec![3, 1, 2]);
//! assert_eq!(p.p50, 2);
//! ```

pub mod audit_sample;
pub mod flags;
pub mod loadgen;
pub mod policy100;
pub mod server;
pub mod server_metrics;
pub mod stats;
