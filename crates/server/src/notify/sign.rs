//! Webhook signing secrets and signatures.
//!
//! A webhook's secret is never stored: it is derived as
//! `HMAC-SHA256(root key, "webhook-secret:<id>")` (with `:<n>` appended after the n-th
//! rotation) from the 32-byte `secrets.key` in the data directory, and shown as
//! `whsec_<base64url>`. Each request is signed Stripe-style:
//! `Sentinel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, where the
//! HMAC key is the secret exactly as shown (`whsec_` included). Signing the timestamp with the
//! body lets a receiver refuse replays of old requests.

use base64::Engine;
use hmac::{Hmac, Mac};
use sentinel_core::Webhook;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "whsec_";

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The signing secret of `webhook`.
pub fn secret(root: &[u8; 32], webhook: &Webhook) -> String {
    let mut label = format!("webhook-secret:{}", webhook.id);
    if webhook.secret_version > 0 {
        label.push_str(&format!(":{}", webhook.secret_version));
    }
    let digest = hmac(root, &[label.as_bytes()]);
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// The `Sentinel-Signature` header for `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let t = timestamp.to_string();
    let mac = hmac(secret.as_bytes(), &[t.as_bytes(), b".", body.as_bytes()]);
    format!("t={t},v1={}", hex::encode(mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a receiver does: checks the header against the body, refusing timestamps more than
    /// `tolerance` seconds from `now`; `verify_slice` compares in constant time.
    fn verify(secret: &str, header: &str, body: &str, now: i64, tolerance: i64) -> bool {
        let mut t = None;
        let mut candidates = vec![];
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => t = v.parse::<i64>().ok(),
                Some(("v1", v)) => candidates.extend(hex::decode(v).ok()),
                _ => {}
            }
        }
        let Some(t) = t.filter(|t| (now - t).abs() <= tolerance) else {
            return false;
        };
        candidates.iter().any(|c| {
            let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(format!("{t}.{body}").as_bytes());
            mac.verify_slice(c).is_ok()
        })
    }

    fn hook(version: u32) -> Webhook {
        Webhook {
            id: uuid::Uuid::from_u128(7),
            tenant_id: uuid::Uuid::from_u128(1),
            name: "x".into(),
            url: "http://127.0.0.1:1/".into(),
            format: sentinel_core::WebhookFormat::Generic,
            events: vec!["*".into()],
            active: true,
            secret_version: version,
            created_at: sentinel_core::ids::now(),
        }
    }

    #[test]
    fn secrets_are_per_webhook_per_rotation_and_per_root_key() {
        let root = [1u8; 32];
        let s = secret(&root, &hook(0));
        assert!(s.starts_with("whsec_") && s.len() == 6 + 43, "{s}");
        assert_eq!(s, secret(&root, &hook(0)), "derived, so stable");
        assert_ne!(s, secret(&root, &hook(1)));
        assert_ne!(s, secret(&[2u8; 32], &hook(0)));
    }

    #[test]
    fn signatures_verify_only_for_their_body_secret_and_time() {
        let (t, body) = (1_700_000_000, "{\"a\":1}");
        let header = signature("whsec_abc", t, body);
        assert!(header.starts_with("t=1700000000,v1="));
        // (secret, body, seconds later, valid)
        let cases = [
            ("whsec_abc", body, 100, true),
            ("whsec_abc", "{\"a\":2}", 100, false),
            ("whsec_abd", body, 100, false),
            ("whsec_abc", body, 1000, false),
        ];
        for (secret, body, later, valid) in cases {
            assert_eq!(
                verify(secret, &header, body, t + later, 300),
                valid,
                "{secret} {body} +{later}s"
            );
        }
        assert!(!verify("whsec_abc", "v1=00", body, t, 300), "no timestamp");
    }
}
