//! Requests and tokens per minute, per tenant or agent, as token buckets in memory on this node
//! (the same shape as the pipeline's quotas). A request spends one request and its estimated
//! prompt tokens when admitted; the completion's tokens are spent when its usage is known, so a
//! burst of long answers holds the next requests back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use uuid::Uuid;

use crate::config::{covers, RateLimit};

/// Which limit ran out, and when to retry.
#[derive(Debug, Clone)]
pub struct Limited {
    pub scope: String,
    pub what: &'static str,
    pub limit: u32,
    pub retry_after: u64,
}

struct Bucket {
    level: f64,
    updated: Instant,
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(Uuid, String, &'static str), Bucket>>,
}

/// The limits that apply to an agent of a tenant, with their bucket scope names.
fn applicable<'a>(
    rules: &'a [RateLimit],
    slug: &str,
    agent: &str,
) -> impl Iterator<Item = (String, &'a RateLimit)> {
    let agent = agent.to_string();
    let slug = slug.to_string();
    rules
        .iter()
        .filter(move |r| covers(&r.tenant, &slug))
        .filter_map(move |r| match r.agent.as_deref() {
            None => Some(("tenant".to_string(), r)),
            Some("*") => Some((format!("agent:{agent}"), r)),
            Some(a) if a == agent => Some((format!("agent:{agent}"), r)),
            Some(_) => None,
        })
}

impl RateLimiter {
    /// Admits a request of about `tokens` prompt tokens, or says which limit is exhausted
    /// (spending nothing).
    pub fn admit(
        &self,
        tenant: Uuid,
        slug: &str,
        agent: &str,
        rules: &[RateLimit],
        tokens: u64,
    ) -> Result<(), Limited> {
        let mut wanted = Vec::new();
        for (scope, rule) in applicable(rules, slug, agent) {
            if let Some(rpm) = rule.rpm {
                wanted.push((scope.clone(), "requests", rpm, 1.0f64));
            }
            if let Some(tpm) = rule.tpm {
                // A request is admitted while the bucket has tokens left; it may overdraw it.
                wanted.push((scope, "tokens", tpm, 0.0f64));
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap();
        for (scope, what, limit, _) in &wanted {
            let b = refill(&mut buckets, tenant, scope, what, *limit, now);
            // A request needs a whole request left; tokens only need the bucket not overdrawn.
            let short = if *what == "requests" {
                1.0 - b.level
            } else {
                -b.level
            };
            if short > 0.0 || (*what == "tokens" && b.level <= 0.0) {
                let per_second = *limit as f64 / 60.0;
                return Err(Limited {
                    scope: scope.clone(),
                    what,
                    limit: *limit,
                    retry_after: (short.max(1.0) / per_second).ceil().max(1.0) as u64,
                });
            }
        }
        for (scope, what, _, need) in &wanted {
            if let Some(b) = buckets.get_mut(&(tenant, scope.clone(), *what)) {
                b.level -= if *what == "tokens" {
                    tokens as f64
                } else {
                    *need
                };
            }
        }
        Ok(())
    }

    /// Spends tokens learned after the fact (the completion's).
    pub fn spend_tokens(
        &self,
        tenant: Uuid,
        slug: &str,
        agent: &str,
        rules: &[RateLimit],
        tokens: u64,
    ) {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap();
        for (scope, rule) in applicable(rules, slug, agent) {
            if let Some(tpm) = rule.tpm {
                refill(&mut buckets, tenant, &scope, "tokens", tpm, now).level -= tokens as f64;
            }
        }
    }
}

fn refill<'a>(
    buckets: &'a mut HashMap<(Uuid, String, &'static str), Bucket>,
    tenant: Uuid,
    scope: &str,
    what: &'static str,
    limit: u32,
    now: Instant,
) -> &'a mut Bucket {
    let b = buckets
        .entry((tenant, scope.to_string(), what))
        .or_insert(Bucket {
            level: limit as f64,
            updated: now,
        });
    let per_second = limit as f64 / 60.0;
    b.level =
        (b.level + now.duration_since(b.updated).as_secs_f64() * per_second).min(limit as f64);
    b.updated = now;
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpm_admits_its_limit_then_asks_to_wait() {
        let rules = vec![RateLimit {
            tenant: "*".into(),
            agent: Some("*".into()),
            rpm: Some(2),
            tpm: None,
        }];
        let l = RateLimiter::default();
        let t = Uuid::now_v7();
        assert!(l.admit(t, "acme", "a", &rules, 10).is_ok());
        assert!(l.admit(t, "acme", "a", &rules, 10).is_ok());
        let e = l.admit(t, "acme", "a", &rules, 10).unwrap_err();
        assert_eq!((e.scope.as_str(), e.what), ("agent:a", "requests"));
        assert!(e.retry_after >= 1);
        assert!(l.admit(t, "acme", "b", &rules, 10).is_ok(), "agents apart");
    }

    #[test]
    fn tpm_counts_prompt_and_completion_tokens() {
        let rules = vec![RateLimit {
            tenant: "acme".into(),
            agent: None,
            rpm: None,
            tpm: Some(100),
        }];
        let l = RateLimiter::default();
        let t = Uuid::now_v7();
        assert!(l.admit(t, "acme", "a", &rules, 60).is_ok());
        l.spend_tokens(t, "acme", "a", &rules, 50);
        assert_eq!(
            l.admit(t, "acme", "b", &rules, 1).unwrap_err().what,
            "tokens"
        );
        assert!(
            l.admit(t, "other", "a", &rules, 1000).is_ok(),
            "other tenants"
        );
    }
}
