//! The server's own timings, read off its `/metrics` before and after a run: the mean of a
//! Prometheus histogram over just that run, summed across its label sets.

use std::collections::HashMap;

/// `(sum, count)` of each histogram in `names`, over all its series.
#[derive(Debug, Clone, Default)]
pub struct Sums(HashMap<String, (f64, f64)>);

impl Sums {
    /// Reads `names` from `{base}/metrics` with the admin key.
    pub async fn read(
        http: &reqwest::Client,
        base: &str,
        admin: &str,
        names: &[&str],
    ) -> anyhow::Result<Sums> {
        let text = http
            .get(format!("{base}/metrics"))
            .bearer_auth(admin)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(Sums::parse(&text, names))
    }

    fn parse(text: &str, names: &[&str]) -> Sums {
        let mut sums: HashMap<String, (f64, f64)> =
            names.iter().map(|n| (n.to_string(), (0.0, 0.0))).collect();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let metric = series.split('{').next().unwrap_or(series);
            for name in names {
                let Some(rest) = metric.strip_prefix(name) else {
                    continue;
                };
                let entry = sums.get_mut(*name).expect("every name has an entry");
                match rest {
                    "_sum" => entry.0 += value,
                    "_count" => entry.1 += value,
                    _ => {}
                }
            }
        }
        Sums(sums)
    }

    /// The mean in µs of `name` over what happened between `before` and `self` (0 without any).
    pub fn mean_us_since(&self, before: &Sums, name: &str) -> f64 {
        let at = |s: &Sums| s.0.get(name).copied().unwrap_or_default();
        let ((sum, count), (sum0, count0)) = (at(self), at(before));
        if count > count0 {
            (sum - sum0) / (count - count0) * 1e6
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_series_of_a_histogram_and_nothing_else() {
        let names = [
            "sentinel_llm_request_seconds",
            "sentinel_audit_commit_seconds",
        ];
        let before = Sums::parse(
            "# TYPE sentinel_llm_request_seconds histogram\n\
             sentinel_llm_request_seconds_sum{model=\"a\"} 1\n\
             sentinel_llm_request_seconds_count{model=\"a\"} 10\n",
            &names,
        );
        let after = Sums::parse(
            "sentinel_llm_request_seconds_bucket{model=\"a\",le=\"0.1\"} 99\n\
             sentinel_llm_request_seconds_sum{model=\"a\"} 1.5\n\
             sentinel_llm_request_seconds_count{model=\"a\"} 20\n\
             sentinel_llm_request_seconds_sum{model=\"b\"} 0.5\n\
             sentinel_llm_request_seconds_count{model=\"b\"} 10\n\
             sentinel_llm_request_seconds_total_sum 100\n\
             sentinel_audit_commit_seconds_sum 0.25\n\
             sentinel_audit_commit_seconds_count 1\n",
            &names,
        );
        // (1.5 + 0.5 - 1) s over (20 + 10 - 10) requests: 50 ms.
        let mean = after.mean_us_since(&before, "sentinel_llm_request_seconds");
        assert!((mean - 50_000.0).abs() < 1e-6, "{mean}");
        assert_eq!(
            after.mean_us_since(&before, "sentinel_audit_commit_seconds"),
            250_000.0
        );
        assert_eq!(
            after.mean_us_since(&after, "sentinel_audit_commit_seconds"),
            0.0
        );
        assert_eq!(after.mean_us_since(&before, "not_there"), 0.0);
    }
}
