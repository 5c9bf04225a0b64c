//! Keyed redaction of secrets inside entry details.
//!
//! A secret must not be stored in the audit log, but an auditor should still be
//! able to tell whether two entries carried the *same* secret, and an operator who
//! holds the key should be able to check a suspected value. So secrets are
//! replaced by `"hmac-sha256:<hex>"`, HMAC-SHA256 under a log-specific key.
//!
//! Two selectors: JSON paths (`$.arguments.token`, `$.headers.*`, `$.items[*].key`,
//! `$.list[0]`, `$["odd key"]`) replace the whole value found there; substrings
//! (e.g. secrets a scanner found in free text) are replaced wherever they occur
//! inside any string value. A string is keyed-hashed over its UTF-8 bytes, any
//! other value over its RFC 8785 canonical JSON.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::canonical::canonical_json;
use crate::error::{AuditError, Result};

/// Prefix of every redacted value.
pub const REDACTED_PREFIX: &str = "hmac-sha256:";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    Any,
}

/// Replaces configured secrets in JSON values by keyed hashes.
#[derive(Clone)]
pub struct SecretRedactor {
    key: Vec<u8>,
    paths: Vec<Vec<Step>>,
    substrings: Vec<String>,
}

impl std::fmt::Debug for SecretRedactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretRedactor")
            .field("paths", &self.paths.len())
            .field("substrings", &self.substrings.len())
            .finish_non_exhaustive()
    }
}

impl SecretRedactor {
    /// A redactor with the given HMAC key and nothing configured yet.
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self {
            key: key.into(),
            paths: Vec::new(),
            substrings: Vec::new(),
        }
    }

    /// Adds a JSON path whose value is always replaced.
    pub fn with_path(mut self, path: &str) -> Result<Self> {
        self.paths.push(parse_path(path)?);
        Ok(self)
    }

    /// Adds a secret substring to replace wherever it occurs in string values.
    /// Empty strings are ignored.
    pub fn with_substring(mut self, secret: impl Into<String>) -> Self {
        let secret = secret.into();
        if !secret.is_empty() {
            self.substrings.push(secret);
        }
        self
    }

    /// `"hmac-sha256:<hex>"` of `bytes` under this redactor's key.
    pub fn keyed_hash(&self, bytes: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(bytes);
        format!(
            "{REDACTED_PREFIX}{}",
            hex::encode(mac.finalize().into_bytes())
        )
    }

    /// Redacts `value` in place: first the configured paths, then substrings.
    pub fn redact(&self, value: &mut Value) {
        for path in &self.paths {
            self.redact_path(value, path);
        }
        if !self.substrings.is_empty() {
            self.redact_substrings(value);
        }
    }

    fn hash_value(&self, v: &Value) -> Value {
        let s = match v {
            Value::String(s) if s.starts_with(REDACTED_PREFIX) => return v.clone(),
            Value::String(s) => self.keyed_hash(s.as_bytes()),
            other => self.keyed_hash(&canonical_json(other)),
        };
        Value::String(s)
    }

    fn redact_path(&self, value: &mut Value, path: &[Step]) {
        let Some((step, rest)) = path.split_first() else {
            *value = self.hash_value(value);
            return;
        };
        match (step, value) {
            (Step::Key(k), Value::Object(map)) => {
                if let Some(v) = map.get_mut(k) {
                    self.redact_path(v, rest);
                }
            }
            (Step::Index(i), Value::Array(items)) => {
                if let Some(v) = items.get_mut(*i) {
                    self.redact_path(v, rest);
                }
            }
            (Step::Any, Value::Object(map)) => {
                map.values_mut().for_each(|v| self.redact_path(v, rest))
            }
            (Step::Any, Value::Array(items)) => {
                items.iter_mut().for_each(|v| self.redact_path(v, rest))
            }
            _ => {}
        }
    }

    fn redact_substrings(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                for secret in &self.substrings {
                    if s.contains(secret.as_str()) {
                        *s = s.replace(secret.as_str(), &self.keyed_hash(secret.as_bytes()));
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_substrings(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_substrings(v)),
            _ => {}
        }
    }
}

/// Parses the small JSONPath subset described in the module docs.
fn parse_path(path: &str) -> Result<Vec<Step>> {
    let bad = |why: &str| AuditError::InvalidInput(format!("JSON path {path:?}: {why}"));
    let mut rest = path
        .strip_prefix('$')
        .ok_or_else(|| bad("must start with $"))?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() {
                return Err(bad("empty key"));
            }
            steps.push(if name == "*" {
                Step::Any
            } else {
                Step::Key(name.to_string())
            });
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| bad("unclosed ["))?;
            let inner = &r[..end];
            steps.push(if inner == "*" {
                Step::Any
            } else if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Step::Key(q.to_string())
            } else {
                Step::Index(inner.parse().map_err(|_| bad("bad index"))?)
            });
            rest = &r[end + 1..];
        } else {
            return Err(bad("expected . or ["));
        }
    }
    if steps.is_empty() {
        return Err(bad("the root itself cannot be redacted"));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc4231_test_case_2() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        let r = SecretRedactor::new(b"Jefe".to_vec());
        assert_eq!(
            r.keyed_hash(b"what do ya want for nothing?"),
            "hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn paths_and_wildcards() {
        let r = SecretRedactor::new(b"k".to_vec())
            .with_path("$.arguments.token")
            .unwrap()
            .with_path("$.headers.*")
            .unwrap()
            .with_path("$.items[*].key")
            .unwrap()
            .with_path("$[\"odd key\"][1]")
            .unwrap();
        let mut v = json!({
            "arguments": {"token": "s3cr3t", "pod": "api"},
            "headers": {"a": "1", "b": {"n": 2}},
            "items": [{"key": "x"}, {"key": "y", "keep": 1}],
            "odd key": [0, 1, 2],
        });
        r.redact(&mut v);
        assert_eq!(v["arguments"]["token"], json!(r.keyed_hash(b"s3cr3t")));
        assert_eq!(v["arguments"]["pod"], json!("api"));
        assert_eq!(v["headers"]["a"], json!(r.keyed_hash(b"1")));
        assert_eq!(v["headers"]["b"], json!(r.keyed_hash(br#"{"n":2}"#)));
        assert_eq!(v["items"][1]["key"], json!(r.keyed_hash(b"y")));
        assert_eq!(v["items"][1]["keep"], json!(1));
        assert_eq!(v["odd key"], json!([0, r.keyed_hash(b"1"), 2]));
        // Idempotent: redacting again changes nothing.
        let once = v.clone();
        r.redact(&mut v);
        assert_eq!(v, once);
    }

    #[test]
    fn substrings_inside_text() {
        let r = SecretRedactor::new(b"k".to_vec()).with_substring("AKIAEXAMPLE");
        let mut v = json!({"out": ["ok", "key=AKIAEXAMPLE; again AKIAEXAMPLE"]});
        r.redact(&mut v);
        let h = r.keyed_hash(b"AKIAEXAMPLE");
        assert_eq!(v["out"][1], json!(format!("key={h}; again {h}")));
        assert!(!v.to_string().contains("AKIAEXAMPLE"));
    }

    #[test]
    fn different_keys_give_different_hashes() {
        let a = SecretRedactor::new(b"a".to_vec());
        let b = SecretRedactor::new(b"b".to_vec());
        assert_ne!(a.keyed_hash(b"x"), b.keyed_hash(b"x"));
    }

    #[test]
    fn bad_paths_are_rejected() {
        for p in ["arguments.token", "$", "$.", "$[", "$[x]", "$..a"] {
            assert!(SecretRedactor::new(vec![]).with_path(p).is_err(), "{p}");
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let r = SecretRedactor::new(b"topsecretkey".to_vec());
        assert!(!format!("{r:?}").contains("topsecret"));
    }
}
