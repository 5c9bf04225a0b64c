//! API keys: `snt_<key id, 32 hex>_<secret, 43 base64url chars>`.
//!
//! The id is public and indexes the stored record; the secret carries 256 random bits and is
//! stored only as its SHA-256 digest. A fast hash is right here (unlike passwords): the input is
//! uniformly random, so there is nothing for a slow hash to protect against.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

const PREFIX: &str = "snt_";

/// A freshly generated key: the full text to hand out once, and the digest to store.
pub struct GeneratedKey {
    pub id: Uuid,
    pub text: String,
    pub digest: [u8; 32],
}

pub fn generate() -> GeneratedKey {
    let id = sentinel_core::new_id();
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    GeneratedKey {
        id,
        digest: digest(&secret),
        text: format!("{PREFIX}{}_{secret}", id.simple()),
    }
}

/// Splits a presented key into its id and secret; `None` when it is not shaped like a key.
pub fn parse(text: &str) -> Option<(Uuid, &str)> {
    let rest = text.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 32 || secret.len() != 43 {
        return None;
    }
    Some((Uuid::try_parse(id).ok()?, secret))
}

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares digests in constant time, so response timing says nothing about a near miss.
pub fn matches(secret: &str, stored: &[u8; 32]) -> bool {
    digest(secret).ct_eq(stored).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_and_match_only_their_digest() {
        let k = generate();
        let (id, secret) = parse(&k.text).unwrap();
        assert_eq!(id, k.id);
        assert!(matches(secret, &k.digest));
        assert!(!matches(secret, &generate().digest));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        for bad in [
            "",
            "snt_",
            "sk-abc",
            "snt_zz_yy",
            &format!("snt_{}_short", Uuid::nil().simple()),
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
