//! Latency percentiles of one run, and medians across repeated runs (the machine is shared and
//! noisy, so every reported number is a median of several runs), and a process's memory.

use std::fmt;

use anyhow::Context;

/// Percentiles of one run, in the unit the samples were taken in (nanoseconds here).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    pub count: usize,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    /// Sorts `samples` in place and reads the percentiles (nearest rank).
    pub fn of(samples: &mut [u64]) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1]
        };
        Percentiles {
            count: samples.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: samples[samples.len() - 1],
        }
    }

    /// The median, field by field, of several runs' percentiles.
    pub fn median_of(runs: &[Percentiles]) -> Percentiles {
        let m = |f: fn(&Percentiles) -> u64| median(&runs.iter().map(f).collect::<Vec<_>>());
        Percentiles {
            count: runs.iter().map(|r| r.count).sum(),
            p50: m(|r| r.p50),
            p90: m(|r| r.p90),
            p99: m(|r| r.p99),
            p999: m(|r| r.p999),
            max: m(|r| r.max),
        }
    }
}

/// Shows nanosecond percentiles in microseconds.
impl fmt::Display for Percentiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = |ns: u64| ns as f64 / 1000.0;
        write!(
            f,
            "p50 {:>8.1} µs  p90 {:>8.1} µs  p99 {:>8.1} µs  p99.9 {:>8.1} µs",
            us(self.p50),
            us(self.p90),
            us(self.p99),
            us(self.p999)
        )
    }
}

/// The median of `values` (the lower middle one for an even count); 0 when empty.
pub fn median<T: Copy + PartialOrd + Default>(values: &[T]) -> T {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

/// The process's resident set size in MB.
pub fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .context("VmRSS in /proc/PID/status")?
        .parse()?;
    Ok(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s: Vec<u64> = (1..=1000).rev().collect();
        let p = Percentiles::of(&mut s);
        assert_eq!(
            (p.p50, p.p90, p.p99, p.p999, p.max),
            (500, 900, 990, 999, 1000)
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[4, 1, 3, 2]), 2);
        assert_eq!(median::<u64>(&[]), 0);
    }
}
