//! The opt-in exact-match response cache: a non-streaming answer is kept for a TTL under the
//! SHA-256 of the tenant and the request body as forwarded (after redaction), so a cache hit
//! answers exactly what the same provider call would have been sent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use uuid::Uuid;

pub struct ResponseCache {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<[u8; 32], (Instant, serde_json::Value)>>,
}

impl ResponseCache {
    pub fn new(ttl: Duration, max_entries: usize) -> ResponseCache {
        ResponseCache {
            ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.max_entries > 0
    }

    pub fn key(tenant: Uuid, endpoint: &str, body: &serde_json::Value) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(tenant.as_bytes());
        h.update(endpoint.as_bytes());
        h.update(serde_json::to_vec(body).unwrap_or_default());
        h.finalize().into()
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<serde_json::Value> {
        let mut entries = self.entries.lock().unwrap();
        match entries.get(key) {
            Some((expires, v)) if *expires > Instant::now() => Some(v.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: [u8; 32], value: serde_json::Value) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap();
        if entries.len() >= self.max_entries {
            entries.retain(|_, (expires, _)| *expires > now);
            if entries.len() >= self.max_entries {
                return; // full of live answers: skip rather than evict at random
            }
        }
        entries.insert(key, (now + self.ttl, value));
    }
}
