//! DSSE v1 envelopes (<https://github.com/secure-systems-lab/dsse>) signed with
//! Ed25519.
//!
//! The signature covers the pre-authentication encoding
//! `"DSSEv1" SP len(type) SP type SP len(body) SP body` (lengths in ASCII
//! decimal), never the JSON envelope, so re-serialising an envelope cannot break
//! it. Key ids follow securesystemslib's default: the hex SHA-256 of the
//! canonical JSON `{"keytype":"ed25519","keyval":{"public":"<hex>"},"scheme":"ed25519"}`,
//! so `securesystemslib`'s `Envelope.verify` matches signatures to keys as is.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::canonical::{canonical_json, sha256};
use crate::error::{malformed, AuditError, Result};

/// A DSSE envelope as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Base64 of the payload bytes.
    pub payload: String,
    /// Media type of the payload, e.g. `application/vnd.in-toto+json`.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// One or more signatures over the PAE.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature in an [`Envelope`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// Which key signed (may be empty per the spec; Sentinel always sets it).
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the signature bytes.
    pub sig: String,
}

impl Envelope {
    /// The decoded payload bytes (unauthenticated: use [`verify_envelope`]).
    pub fn payload_bytes(&self) -> Result<Vec<u8>> {
        B64.decode(&self.payload)
            .map_err(|e| malformed("DSSE envelope", format!("payload base64: {e}")))
    }
}

/// DSSE v1 pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// securesystemslib's default key id of an Ed25519 public key.
pub fn ed25519_keyid(public: &VerifyingKey) -> String {
    let key = json!({
        "keytype": "ed25519",
        "scheme": "ed25519",
        "keyval": {"public": hex::encode(public.as_bytes())},
    });
    hex::encode(sha256(canonical_json(&key)))
}

/// An Ed25519 key that signs envelopes.
#[derive(Clone)]
pub struct DsseSigner {
    key: SigningKey,
    keyid: String,
}

impl std::fmt::Debug for DsseSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsseSigner")
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

impl DsseSigner {
    /// Wraps `key`; the key id is [`ed25519_keyid`] of its public half.
    pub fn new(key: SigningKey) -> Self {
        let keyid = ed25519_keyid(&key.verifying_key());
        Self { key, keyid }
    }

    /// The key id put in signatures.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// The matching verifier.
    pub fn verifier(&self) -> DsseVerifier {
        DsseVerifier::new(self.key.verifying_key())
    }
}

/// An Ed25519 public key that verifies envelopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsseVerifier {
    key: VerifyingKey,
    keyid: String,
}

impl DsseVerifier {
    /// Wraps a public key; the key id is [`ed25519_keyid`].
    pub fn new(key: VerifyingKey) -> Self {
        Self {
            keyid: ed25519_keyid(&key),
            key,
        }
    }

    /// The key id this verifier answers to.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

/// Signs `payload` of type `payload_type` into a one-signature envelope.
pub fn sign_envelope(payload_type: &str, payload: &[u8], signer: &DsseSigner) -> Envelope {
    let sig: Signature = signer.key.sign(&pae(payload_type, payload));
    Envelope {
        payload: B64.encode(payload),
        payload_type: payload_type.to_string(),
        signatures: vec![EnvelopeSignature {
            keyid: signer.keyid.clone(),
            sig: B64.encode(sig.to_bytes()),
        }],
    }
}

/// Verifies that at least one signature in `envelope` is a valid signature by
/// one of `verifiers` and returns the authenticated payload bytes.
///
/// A signature with a key id is only tried against the verifier with that id;
/// one without a key id is tried against all.
pub fn verify_envelope(envelope: &Envelope, verifiers: &[DsseVerifier]) -> Result<Vec<u8>> {
    let payload = envelope.payload_bytes()?;
    let message = pae(&envelope.payload_type, &payload);
    for s in &envelope.signatures {
        let Ok(raw) = B64.decode(&s.sig) else {
            continue;
        };
        let Ok(sig) = Signature::from_slice(&raw) else {
            continue;
        };
        let ok = verifiers
            .iter()
            .filter(|v| s.keyid.is_empty() || s.keyid == v.keyid)
            .any(|v| v.key.verify_strict(&message, &sig).is_ok());
        if ok {
            return Ok(payload);
        }
    }
    Err(AuditError::Signature(
        "no envelope signature verifies with a trusted key".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sign_verify_and_tamper() {
        let s = DsseSigner::new(SigningKey::from_bytes(&[5; 32]));
        let env = sign_envelope("application/x-test", b"{\"a\":1}", &s);
        assert_eq!(
            verify_envelope(&env, &[s.verifier()]).unwrap(),
            b"{\"a\":1}"
        );

        let mut bad = env.clone();
        bad.payload = B64.encode(b"{\"a\":2}");
        assert!(verify_envelope(&bad, &[s.verifier()]).is_err());

        let mut bad = env.clone();
        bad.payload_type = "application/x-other".into();
        assert!(verify_envelope(&bad, &[s.verifier()]).is_err());

        let other = DsseSigner::new(SigningKey::from_bytes(&[6; 32]));
        assert!(verify_envelope(&env, &[other.verifier()]).is_err());

        // JSON round trip keeps it valid.
        let json = serde_json::to_string(&env).unwrap();
        assert!(json.contains("\"payloadType\""));
        let back: Envelope = serde_json::from_str(&json).unwrap();
        assert!(verify_envelope(&back, &[s.verifier()]).is_ok());
    }

    #[test]
    fn keyid_is_sha256_of_canonical_key_json() {
        let v = DsseSigner::new(SigningKey::from_bytes(&[5; 32])).verifier();
        let expected = format!(
            "{{\"keytype\":\"ed25519\",\"keyval\":{{\"public\":\"{}\"}},\"scheme\":\"ed25519\"}}",
            hex::encode(v.verifying_key().as_bytes())
        );
        assert_eq!(v.keyid(), hex::encode(sha256(expected.as_bytes())));
    }
}
