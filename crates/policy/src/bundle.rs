//! A bundle: Rego modules plus JSON data, named by the hash of its content.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Largest accepted bundle: modules and data together.
pub const MAX_BUNDLE_BYTES: usize = 1024 * 1024;
pub const MAX_MODULES: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// File name → Rego source.
    pub modules: BTreeMap<String, String>,
    /// Available to rules as `data` (for example `data.risk_matrix`).
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

impl Bundle {
    pub fn new() -> Bundle {
        Bundle {
            modules: BTreeMap::new(),
            data: empty_object(),
        }
    }

    pub fn module(mut self, name: &str, source: &str) -> Bundle {
        self.modules.insert(name.to_string(), source.to_string());
        self
    }

    pub fn data(mut self, data: serde_json::Value) -> Bundle {
        self.data = data;
        self
    }

    /// `sha256:<hex>` over the modules (sorted by name) and the data. serde_json keeps object
    /// keys sorted, so equal bundles always hash equal.
    pub fn revision(&self) -> String {
        let mut h = Sha256::new();
        for (name, source) in &self.modules {
            h.update((name.len() as u64).to_be_bytes());
            h.update(name.as_bytes());
            h.update((source.len() as u64).to_be_bytes());
            h.update(source.as_bytes());
        }
        h.update(self.data.to_string().as_bytes());
        format!("sha256:{}", hex::encode(h.finalize()))
    }

    /// Loads every `*.rego` file of a directory, and `data.json` when present.
    pub fn from_dir(dir: &std::path::Path) -> std::io::Result<Bundle> {
        let mut bundle = Bundle::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if name.ends_with(".rego") {
                bundle.modules.insert(name, std::fs::read_to_string(&path)?);
            } else if name == "data.json" {
                bundle.data = serde_json::from_str(&std::fs::read_to_string(&path)?)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            }
        }
        Ok(bundle)
    }

    /// Size and shape limits, checked before anything is compiled.
    pub fn check_limits(&self) -> Result<(), String> {
        if self.modules.is_empty() {
            return Err("a bundle needs at least one module".into());
        }
        if self.modules.len() > MAX_MODULES {
            return Err(format!("at most {MAX_MODULES} modules"));
        }
        let size: usize = self
            .modules
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
            + self.data.to_string().len();
        if size > MAX_BUNDLE_BYTES {
            return Err(format!(
                "the bundle is {size} bytes; at most {MAX_BUNDLE_BYTES}"
            ));
        }
        if !self.data.is_object() {
            return Err("data must be a JSON object".into());
        }
        if self.modules.keys().any(|k| k == "sentinel.rego") {
            return Err("sentinel.rego is the library module's name; choose another".into());
        }
        Ok(())
    }
}

impl sentinel_core::validate::Validate for Bundle {
    fn validate(&self) -> Result<(), sentinel_core::validate::FieldError> {
        self.check_limits()
            .map_err(|message| sentinel_core::validate::FieldError {
                field: "modules".into(),
                message,
            })
    }
}
