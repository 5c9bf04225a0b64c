//! Tenant secrets: credentials that Sentinel injects into upstream calls (MCP servers' env and
//! headers, LLM providers' keys) so that agents never hold them. Values are write-only: the API
//! shows a secret's metadata, never its value. Configuration refers to a secret by name with a
//! `${secret:NAME}` template.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::{FieldError, Validate};

/// Longest secret name.
pub const MAX_SECRET_NAME: usize = 64;
/// Largest secret value: room for a PEM key or a service-account JSON, no more.
pub const MAX_SECRET_VALUE: usize = 16 * 1024;

/// What anyone with read access may know of a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SecretMeta {
    pub tenant_id: Uuid,
    /// Unique in the tenant; referred to as `${secret:NAME}`.
    pub name: String,
    pub description: Option<String>,
    /// 1 when created, one more each time the value is replaced.
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A secret as the store keeps it: metadata beside the sealed (encrypted) value.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedSecret {
    pub meta: SecretMeta,
    /// `base64(nonce ‖ ciphertext ‖ tag)`; see `sentinel_pipeline::SecretVault`.
    pub sealed: String,
}

/// The body of `PUT /v1/tenants/{t}/secrets/{name}`.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretValue {
    /// The value, 1 byte to 16 KiB. Never shown again.
    pub value: String,
    pub description: Option<String>,
}

impl std::fmt::Debug for SecretValue {
    // A value must not reach a log through a stray `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretValue")
            .field("value", &"<redacted>")
            .field("description", &self.description)
            .finish()
    }
}

impl Validate for SecretValue {
    fn validate(&self) -> Result<(), FieldError> {
        if self.value.is_empty() || self.value.len() > MAX_SECRET_VALUE {
            return Err(FieldError {
                field: "value".into(),
                message: format!("must be 1-{MAX_SECRET_VALUE} bytes long"),
            });
        }
        crate::validate::text("description", &self.description)
    }
}

/// A secret's name: 1-64 characters of `A-Z a-z 0-9 _ . -`, so that it reads unambiguously
/// inside a `${secret:NAME}` template and in a URL path.
pub fn secret_name(field: &str, value: &str) -> Result<(), FieldError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_SECRET_NAME
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(FieldError {
            field: field.into(),
            message: format!(
                "must be 1-{MAX_SECRET_NAME} characters of A-Z, a-z, 0-9, '_', '.' and '-'"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_template_safe() {
        for good in ["GITHUB_TOKEN", "openai.key", "a", "x-1"] {
            assert!(secret_name("name", good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "a}", "a/b", "é", &"x".repeat(65)] {
            assert!(secret_name("name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_the_value() {
        let v = SecretValue {
            value: "hunter2".into(),
            description: None,
        };
        assert!(!format!("{v:?}").contains("hunter2"));
    }
}
