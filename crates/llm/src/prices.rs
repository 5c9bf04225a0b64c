//! The price table, shipped as data (`prices.json`, with its sources) and overridable per
//! deployment. Costs are integers in millionths of a dollar, so sums are exact.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    /// Cost of a request in millionths of a dollar: tokens × dollars per million tokens.
    pub fn cost_micros(&self, prompt_tokens: u64, completion_tokens: u64) -> u64 {
        (prompt_tokens as f64 * self.input + completion_tokens as f64 * self.output).round() as u64
    }
}

#[derive(Deserialize)]
struct Table {
    models: HashMap<String, Price>,
}

fn table() -> &'static HashMap<String, Price> {
    static TABLE: OnceLock<HashMap<String, Price>> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str::<Table>(include_str!("../prices.json"))
            .expect("prices.json is valid (tested)")
            .models
    })
}

/// The shipped price of `model`: an exact entry, else the longest entry that prefixes it
/// (`gpt-4o-mini-2024-07-18` costs what `gpt-4o-mini` does).
pub fn shipped(model: &str) -> Option<Price> {
    let t = table();
    if let Some(p) = t.get(model) {
        return Some(*p);
    }
    t.iter()
        .filter(|(name, _)| model.starts_with(name.as_str()))
        .max_by_key(|(name, _)| name.len())
        .map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_models_cost_what_their_family_does() {
        let p = shipped("gpt-4o-mini-2024-07-18").unwrap();
        assert_eq!(p, shipped("gpt-4o-mini").unwrap());
        // 1000 input tokens at $0.15/M and 500 output at $0.60/M: $0.00045 = 450 micros.
        assert_eq!(p.cost_micros(1000, 500), 450);
        assert!(shipped("no-such-model").is_none());
    }
}
