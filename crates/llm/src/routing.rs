//! Routing: a model name → the deployments that serve it for a tenant, in the order to try
//! them — a weighted rotation among the model's own deployments, then its fallback models'.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::{covers, Deployment, LlmConfig};

pub struct Routes {
    deployments: Vec<Arc<Deployment>>,
    fallbacks: std::collections::HashMap<String, Vec<String>>,
    turn: AtomicU64,
}

impl Routes {
    pub fn new(config: &LlmConfig) -> Routes {
        Routes {
            deployments: config.deployments.iter().cloned().map(Arc::new).collect(),
            fallbacks: config.fallbacks.clone(),
            turn: AtomicU64::new(0),
        }
    }

    /// The model names a tenant can ask for.
    pub fn models(&self, slug: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .deployments
            .iter()
            .filter(|d| covers(&d.tenant, slug))
            .map(|d| d.model.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The deployments to try for `model`, first choice first; empty when none serves it.
    pub fn plan(&self, slug: &str, model: &str) -> Vec<Arc<Deployment>> {
        let mut plan = self.rotation(slug, model);
        if plan.is_empty() {
            return plan;
        }
        for fallback in self.fallbacks.get(model).into_iter().flatten() {
            for d in self.rotation(slug, fallback) {
                if !plan.iter().any(|p| p.name == d.name) {
                    plan.push(d);
                }
            }
        }
        plan
    }

    /// The model's own deployments, starting at the weighted turn and going round.
    fn rotation(&self, slug: &str, model: &str) -> Vec<Arc<Deployment>> {
        let own: Vec<&Arc<Deployment>> = self
            .deployments
            .iter()
            .filter(|d| d.model == model && covers(&d.tenant, slug))
            .collect();
        let total: u64 = own.iter().map(|d| d.weight.max(1) as u64).sum();
        if own.len() <= 1 || total == 0 {
            return own.into_iter().cloned().collect();
        }
        let mut ticket = self.turn.fetch_add(1, Ordering::Relaxed) % total;
        let mut first = 0;
        for (i, d) in own.iter().enumerate() {
            let w = d.weight.max(1) as u64;
            if ticket < w {
                first = i;
                break;
            }
            ticket -= w;
        }
        own[first..]
            .iter()
            .chain(own[..first].iter())
            .map(|d| (*d).clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;

    fn dep(name: &str, tenant: &str, model: &str, weight: u32) -> Deployment {
        Deployment {
            name: name.into(),
            tenant: tenant.into(),
            model: model.into(),
            provider: Provider::Openai,
            base_url: "http://x/v1".into(),
            upstream_model: None,
            api_key: None,
            weight,
            timeout_ms: 1000,
            price: None,
        }
    }

    #[test]
    fn weights_share_traffic_and_fallbacks_come_last() {
        let config = LlmConfig {
            deployments: vec![
                dep("a", "*", "m", 3),
                dep("b", "*", "m", 1),
                dep("c", "acme", "small", 1),
                dep("d", "other", "m", 1),
            ],
            fallbacks: [("m".to_string(), vec!["small".to_string()])].into(),
            ..Default::default()
        };
        let r = Routes::new(&config);
        let mut firsts = std::collections::HashMap::new();
        for _ in 0..400 {
            let plan = r.plan("acme", "m");
            let names: Vec<&str> = plan.iter().map(|d| d.name.as_str()).collect();
            assert_eq!(names.len(), 3);
            assert_eq!(names[2], "c");
            *firsts.entry(names[0].to_string()).or_insert(0) += 1;
        }
        assert_eq!(firsts["a"], 300);
        assert_eq!(firsts["b"], 100);
        assert!(r.plan("acme", "nope").is_empty());
        assert_eq!(r.models("acme"), vec!["m", "small"]);
        assert_eq!(
            r.plan("globex", "m").len(),
            2,
            "no fallback deployment for globex"
        );
    }
}
