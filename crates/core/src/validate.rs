//! Input limits and shape checks for everything callers create or change.
//!
//! Serde already rejects unknown fields and wrong types; these checks add what a type cannot say:
//! lengths, character sets, list sizes. Each failure names the field at fault so the server can
//! answer with a precise problem document.

use std::collections::BTreeMap;

use crate::registry::*;

pub const MAX_NAME: usize = 128;
pub const MAX_TEXT: usize = 2048;
pub const MAX_LABELS: usize = 64;
pub const MAX_SCOPES: usize = 64;
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// A rejected field: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn fail(field: impl Into<String>, message: impl Into<String>) -> Result<(), FieldError> {
    Err(FieldError {
        field: field.into(),
        message: message.into(),
    })
}

/// Slugs appear in URLs: lowercase letters, digits and dashes, starting with a letter or digit.
pub fn slug(field: &str, value: &str) -> Result<(), FieldError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        fail(
            field,
            "must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit",
        )
    }
}

/// Names of agents and tools: printable, no whitespace at the ends, bounded.
pub fn name(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() || value.len() > MAX_NAME {
        return fail(field, format!("must be 1-{MAX_NAME} bytes long"));
    }
    if value.trim() != value || value.chars().any(|c| c.is_control() || c == '/') {
        return fail(
            field,
            "must not contain control characters, '/' or surrounding spaces",
        );
    }
    Ok(())
}

/// Free text such as descriptions and owners.
pub fn text(field: &str, value: &Option<String>) -> Result<(), FieldError> {
    match value {
        Some(v) if v.len() > MAX_TEXT => fail(field, format!("must be at most {MAX_TEXT} bytes")),
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            fail(field, "must not contain control characters")
        }
        _ => Ok(()),
    }
}

/// A duration as people write it: `90s`, `10m`, `1h`, or plain seconds.
pub fn duration(s: &str) -> Option<std::time::Duration> {
    let (n, unit) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        _ => (s, 1),
    };
    let secs = n.parse::<u64>().ok()?.checked_mul(unit)?;
    Some(std::time::Duration::from_secs(secs))
}

/// A reason a person gives for an operator action (a kill, an answer): required, and text.
pub fn reason(field: &str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return fail(field, "say why");
    }
    text(field, &Some(value.to_string()))
}

pub fn labels(field: &str, value: &BTreeMap<String, String>) -> Result<(), FieldError> {
    if value.len() > MAX_LABELS {
        return fail(field, format!("at most {MAX_LABELS} labels"));
    }
    for (k, v) in value {
        name(&format!("{field}.{k}"), k)?;
        if v.len() > 256 {
            return fail(format!("{field}.{k}"), "label values are at most 256 bytes");
        }
    }
    Ok(())
}

pub fn scopes(field: &str, value: &[String]) -> Result<(), FieldError> {
    if value.len() > MAX_SCOPES {
        return fail(field, format!("at most {MAX_SCOPES} scopes"));
    }
    for (i, s) in value.iter().enumerate() {
        name(&format!("{field}[{i}]"), s)?;
    }
    Ok(())
}

pub fn metadata(field: &str, value: &serde_json::Value) -> Result<(), FieldError> {
    if !value.is_object() {
        return fail(field, "must be a JSON object");
    }
    if value.to_string().len() > MAX_METADATA_BYTES {
        return fail(
            field,
            format!("must serialize to at most {MAX_METADATA_BYTES} bytes"),
        );
    }
    Ok(())
}

pub fn url(field: &str, value: &Option<String>) -> Result<(), FieldError> {
    match value {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
            fail(field, "must be an http:// or https:// URL")
        }
        Some(u) if u.len() > MAX_TEXT => fail(field, format!("must be at most {MAX_TEXT} bytes")),
        _ => Ok(()),
    }
}

/// Implemented by every request body that needs checks beyond its type.
pub trait Validate {
    fn validate(&self) -> Result<(), FieldError>;
}

impl Validate for NewTenant {
    fn validate(&self) -> Result<(), FieldError> {
        slug("slug", &self.slug)?;
        text("display_name", &self.display_name)
    }
}

impl Validate for TenantPatch {
    fn validate(&self) -> Result<(), FieldError> {
        text("display_name", &self.display_name)
    }
}

impl Validate for NewAgent {
    fn validate(&self) -> Result<(), FieldError> {
        name("name", &self.name)?;
        text("framework", &self.framework)?;
        text("owner", &self.owner)?;
        text("description", &self.description)?;
        labels("labels", &self.labels)
    }
}

impl Validate for AgentPatch {
    fn validate(&self) -> Result<(), FieldError> {
        text("framework", &self.framework)?;
        text("owner", &self.owner)?;
        text("description", &self.description)?;
        self.labels.as_ref().map_or(Ok(()), |l| labels("labels", l))
    }
}

impl Validate for NewTool {
    fn validate(&self) -> Result<(), FieldError> {
        name("name", &self.name)?;
        text("server", &self.server)?;
        url("url", &self.url)?;
        text("owner", &self.owner)?;
        scopes("scopes", &self.scopes)?;
        metadata("metadata", &self.metadata)
    }
}

impl Validate for ToolPatch {
    fn validate(&self) -> Result<(), FieldError> {
        text("server", &self.server)?;
        url("url", &self.url)?;
        text("owner", &self.owner)?;
        self.scopes
            .as_ref()
            .map_or(Ok(()), |s| scopes("scopes", s))?;
        self.metadata
            .as_ref()
            .map_or(Ok(()), |m| metadata("metadata", m))
    }
}

impl Validate for NewApiKey {
    fn validate(&self) -> Result<(), FieldError> {
        text("name", &self.name)?;
        match (self.role, &self.agent) {
            (crate::Role::Agent, None) => fail("agent", "agent keys must name their agent"),
            (crate::Role::Agent, Some(_)) => Ok(()),
            (crate::Role::Admin, _) => fail("role", "admin keys are created with /v1/admin/keys"),
            (_, Some(_)) => fail("agent", "only agent keys are bound to an agent"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(slug("s", "acme-2").is_ok());
        for bad in ["", "-acme", "Acme", "ac me", "a/b", &"a".repeat(64)] {
            assert!(slug("s", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_reject_control_characters_and_slashes() {
        assert!(name("n", "k8s.restart_pod").is_ok());
        assert_eq!(name("n", "a\u{0}b").unwrap_err().field, "n");
        assert!(name("n", "a/b").is_err());
        assert!(name("n", " padded").is_err());
    }

    #[test]
    fn metadata_must_be_a_bounded_object() {
        assert!(metadata("m", &serde_json::json!({"a": 1})).is_ok());
        assert!(metadata("m", &serde_json::json!([1])).is_err());
        let big = serde_json::json!({"a": "x".repeat(MAX_METADATA_BYTES)});
        assert!(metadata("m", &big).is_err());
    }
}
