//! Money budgets per tenant or agent and calendar period (UTC). Spend is kept in memory and
//! restored from the usage log the first time a budget is checked in a period, so a restart
//! does not reset it. Requests in flight when a budget runs out still complete: the budget is
//! checked before a request, and charged after it.

use std::collections::HashMap;
use std::sync::Mutex;

use sentinel_store::Store;
use time::{OffsetDateTime, Time};
use uuid::Uuid;

use crate::config::{covers, Budget, BudgetPeriod};

/// A budget that is used up.
#[derive(Debug, Clone)]
pub struct Exhausted {
    pub scope: String,
    pub usd: f64,
    pub spent_usd: f64,
    /// Seconds until the period ends.
    pub resets_in: u64,
}

#[derive(Default)]
pub struct BudgetBook {
    /// (tenant, scope, period start) → spend in micro-dollars.
    spent: Mutex<HashMap<(Uuid, String, i64), u64>>,
}

fn period_bounds(period: BudgetPeriod, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let day = now.replace_time(Time::MIDNIGHT);
    match period {
        BudgetPeriod::Day => (day, day + time::Duration::days(1)),
        BudgetPeriod::Month => {
            let start = day.replace_day(1).expect("day 1 exists");
            let (y, m) = (start.year(), start.month());
            let next = if m == time::Month::December {
                start
                    .replace_year(y + 1)
                    .and_then(|d| d.replace_month(time::Month::January))
            } else {
                start.replace_month(m.next())
            };
            (start, next.expect("the next month exists"))
        }
    }
}

/// The budgets that apply, with scope names and the agent filter for restoring spend.
fn applicable<'a>(
    rules: &'a [Budget],
    slug: &'a str,
    agent: &'a str,
) -> impl Iterator<Item = (String, Option<&'a str>, &'a Budget)> + 'a {
    rules
        .iter()
        .filter(move |b| covers(&b.tenant, slug))
        .filter_map(move |b| match b.agent.as_deref() {
            None => Some(("tenant".to_string(), None, b)),
            Some(a) if a == "*" || a == agent => Some((format!("agent:{agent}"), Some(agent), b)),
            Some(_) => None,
        })
}

impl BudgetBook {
    /// Fails with the first exhausted budget. Reads the usage log once per budget and period.
    pub async fn check(
        &self,
        store: &dyn Store,
        tenant: Uuid,
        slug: &str,
        agent: &str,
        rules: &[Budget],
    ) -> Result<(), Exhausted> {
        let now = OffsetDateTime::now_utc();
        for (scope, filter, rule) in applicable(rules, slug, agent) {
            let (start, end) = period_bounds(rule.period, now);
            let key = (
                tenant,
                format!("{scope}:{:?}", rule.period),
                start.unix_timestamp(),
            );
            let known = self.spent.lock().unwrap().get(&key).copied();
            let spent = match known {
                Some(s) => s,
                None => {
                    // Fail open on a store error: the gateway keeps serving and counts from 0.
                    let s = store
                        .llm_spend(tenant, filter, start)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "could not restore LLM spend");
                            0
                        });
                    *self.spent.lock().unwrap().entry(key).or_insert(s)
                }
            };
            let limit = (rule.usd * 1e6).round() as u64;
            if spent >= limit {
                return Err(Exhausted {
                    scope,
                    usd: rule.usd,
                    spent_usd: spent as f64 / 1e6,
                    resets_in: (end - now).whole_seconds().max(1) as u64,
                });
            }
        }
        Ok(())
    }

    /// Charges a request's cost to every budget that applies.
    pub fn charge(&self, tenant: Uuid, slug: &str, agent: &str, rules: &[Budget], micros: u64) {
        if micros == 0 {
            return;
        }
        let now = OffsetDateTime::now_utc();
        let mut spent = self.spent.lock().unwrap();
        for (scope, _, rule) in applicable(rules, slug, agent) {
            let (start, _) = period_bounds(rule.period, now);
            let key = (
                tenant,
                format!("{scope}:{:?}", rule.period),
                start.unix_timestamp(),
            );
            // Only periods already restored from the log are counted here; the others read
            // the log (which will hold this request) when first checked.
            if let Some(s) = spent.get_mut(&key) {
                *s += micros;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_end_on_the_first_of_the_next() {
        let at = time::macros::datetime!(2026-12-15 13:00 UTC);
        let (s, e) = period_bounds(BudgetPeriod::Month, at);
        assert_eq!(s, time::macros::datetime!(2026-12-01 0:00 UTC));
        assert_eq!(e, time::macros::datetime!(2027-01-01 0:00 UTC));
        let (s, e) = period_bounds(BudgetPeriod::Day, at);
        assert_eq!((e - s).whole_hours(), 24);
    }
}
