//! The gateway's per-request metrics as handles, looked up once per model and deployment: a
//! request then costs a few atomic adds instead of a registry look-up per metric (each one
//! building, allocating and hashing a labelled key).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use metrics::{Counter, Histogram};

/// The metrics of one (model, deployment) pair.
pub(crate) struct Handles {
    pub requests: Counter,
    pub prompt_tokens: Counter,
    pub completion_tokens: Counter,
    pub cost_micros: Counter,
    pub seconds: Histogram,
}

/// Handles by model, then deployment; both come from the configuration (a request for a model
/// no deployment serves is refused before anything is recorded), so the map stays small.
#[derive(Default)]
pub(crate) struct Meters {
    by_model: RwLock<HashMap<String, HashMap<String, Arc<Handles>>>>,
    upstream: RwLock<HashMap<String, Histogram>>,
}

impl Meters {
    pub fn request(&self, model: &str, deployment: &str) -> Arc<Handles> {
        if let Some(h) = self
            .by_model
            .read()
            .unwrap()
            .get(model)
            .and_then(|d| d.get(deployment))
        {
            return h.clone();
        }
        let labels = [
            ("model", model.to_string()),
            ("deployment", deployment.to_string()),
        ];
        let handles = Arc::new(Handles {
            requests: metrics::counter!("sentinel_llm_requests_total", &labels),
            prompt_tokens: metrics::counter!("sentinel_llm_prompt_tokens_total", &labels),
            completion_tokens: metrics::counter!("sentinel_llm_completion_tokens_total", &labels),
            cost_micros: metrics::counter!("sentinel_llm_cost_micros_total", &labels),
            seconds: metrics::histogram!("sentinel_llm_request_seconds", &labels),
        });
        self.by_model
            .write()
            .unwrap()
            .entry(model.to_string())
            .or_default()
            .insert(deployment.to_string(), handles.clone());
        handles
    }

    /// `sentinel_llm_upstream_seconds` of a deployment.
    pub fn upstream(&self, deployment: &str) -> Histogram {
        if let Some(h) = self.upstream.read().unwrap().get(deployment) {
            return h.clone();
        }
        let h = metrics::histogram!("sentinel_llm_upstream_seconds", "deployment" => deployment.to_string());
        self.upstream
            .write()
            .unwrap()
            .insert(deployment.to_string(), h.clone());
        h
    }
}
