//! The MCP gateway's records: the upstream MCP servers a tenant puts behind Sentinel, and the
//! pinned definitions of the tools they offer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::{self, FieldError};

/// Between an upstream's name and its tool's name in what agents see: `github__create_issue`.
/// Server names are slugs (no `_`), so the first `__` always splits a name unambiguously.
pub const TOOL_SEPARATOR: &str = "__";

/// Largest `ca_cert_pem` accepted (a bundle of a few dozen certificates).
pub const MAX_CA_PEM: usize = 64 * 1024;

/// An upstream MCP server of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct McpServer {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Unique within the tenant; a slug, since it prefixes every tool name (`name__tool`).
    pub name: String,
    pub transport: McpTransport,
    /// Disabled servers are not started and their tools are not offered.
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// How Sentinel reaches an upstream. Values of `env` and `headers` are templates:
/// `${secret:NAME}` is replaced by the tenant secret `NAME` when the server is started or
/// connected, so the record never holds a credential and agents never see one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum McpTransport {
    /// A process Sentinel spawns and supervises, speaking MCP on its stdin/stdout.
    Stdio {
        command: String,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default)]
        env: BTreeMap<String, String>,
    },
    /// A streamable-HTTP MCP endpoint, `https://` (TLS verified against the system's trust
    /// store, plus `ca_cert_pem`) or plain `http://`.
    Http {
        url: String,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// PEM certificate(s) of a private CA that issued the upstream's certificate, trusted
        /// for this upstream only and beside the system's roots. Public material, shown to
        /// every reader of the record; needs an `https://` URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_cert_pem: Option<String>,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMcpServer {
    pub name: String,
    pub transport: McpTransport,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpServerPatch {
    pub transport: Option<McpTransport>,
    pub enabled: Option<bool>,
}

/// Whether a tool's current definition is the one an operator (or first discovery) approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PinStatus {
    /// The definition matches its pin: the tool may be offered and called.
    Approved,
    /// The upstream now describes the tool differently (a possible "rug pull"): the tool is
    /// blocked until an operator approves the new definition.
    Changed,
}

/// The pinned definition of one upstream tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolPin {
    pub tenant_id: Uuid,
    /// The upstream server's name.
    pub server: String,
    /// The tool's name at the upstream (without the server prefix).
    pub tool: String,
    /// `sha256:<hex>` of the approved definition (name, description, input schema).
    pub hash: String,
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    pub status: PinStatus,
    /// The definition the upstream offers now, when it differs from the pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub offered_definition: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub approved_at: OffsetDateTime,
    /// Who approved the pin: `discovery` for the first definition seen, else `key:<id>`.
    pub approved_by: String,
}

impl McpTransport {
    fn validate(&self) -> Result<(), FieldError> {
        let bad = |field: &str, message: &str| {
            Err(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        match self {
            McpTransport::Stdio { command, args, env } => {
                if command.trim().is_empty() || command.len() > validate::MAX_TEXT {
                    return bad("transport.command", "name the program to run");
                }
                if args.len() > 64 || args.iter().any(|a| a.len() > validate::MAX_TEXT) {
                    return bad("transport.args", "at most 64 arguments of 2048 bytes");
                }
                templates("transport.env", env)
            }
            McpTransport::Http {
                url,
                headers,
                ca_cert_pem,
            } => {
                let https = url.starts_with("https://");
                if !(url.starts_with("http://") || https) || url.len() > validate::MAX_TEXT {
                    return bad("transport.url", "must be an http:// or https:// URL");
                }
                if let Some(pem) = ca_cert_pem {
                    if !https {
                        return bad("transport.ca_cert_pem", "needs an https:// URL");
                    }
                    // A private key pasted by mistake must not be stored (records are shown
                    // to auditors); the certificates are parsed where TLS is set up.
                    if pem.contains("PRIVATE KEY") {
                        return bad(
                            "transport.ca_cert_pem",
                            "holds a private key: give the CA's certificate only",
                        );
                    }
                    if pem.len() > MAX_CA_PEM || !pem.contains("-----BEGIN CERTIFICATE-----") {
                        return bad(
                            "transport.ca_cert_pem",
                            "must be PEM CERTIFICATE blocks, at most 64 KiB",
                        );
                    }
                }
                templates("transport.headers", headers)
            }
        }
    }
}

fn templates(field: &str, map: &BTreeMap<String, String>) -> Result<(), FieldError> {
    if map.len() > validate::MAX_LABELS {
        return Err(FieldError {
            field: field.into(),
            message: format!("at most {} entries", validate::MAX_LABELS),
        });
    }
    for (k, v) in map {
        if k.is_empty()
            || k.len() > validate::MAX_NAME
            || k.chars()
                .any(|c| c.is_control() || c == '=' || c.is_whitespace())
            || v.len() > validate::MAX_TEXT
            || v.contains(['\r', '\n', '\0'])
        {
            return Err(FieldError {
                field: format!("{field}.{k}"),
                message: "names are 1-128 printable bytes without '=' or spaces; values are \
                          at most 2048 bytes on one line"
                    .into(),
            });
        }
    }
    Ok(())
}

impl validate::Validate for NewMcpServer {
    fn validate(&self) -> Result<(), FieldError> {
        validate::slug("name", &self.name)?;
        self.transport.validate()
    }
}

impl validate::Validate for McpServerPatch {
    fn validate(&self) -> Result<(), FieldError> {
        match &self.transport {
            Some(t) => t.validate(),
            None => Ok(()),
        }
    }
}

/// The name agents see for `tool` of upstream `server`.
pub fn namespaced_tool(server: &str, tool: &str) -> String {
    format!("{server}{TOOL_SEPARATOR}{tool}")
}

/// Splits a name agents see into upstream server and tool.
pub fn split_tool(name: &str) -> Option<(&str, &str)> {
    name.split_once(TOOL_SEPARATOR)
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Validate;

    #[test]
    fn names_split_at_the_first_separator() {
        assert_eq!(split_tool("git__git_log"), Some(("git", "git_log")));
        assert_eq!(split_tool("a__b__c"), Some(("a", "b__c")));
        assert_eq!(split_tool("plain"), None);
        assert_eq!(split_tool("__x"), None);
        assert_eq!(namespaced_tool("time", "now"), "time__now");
    }

    #[test]
    fn servers_are_validated() {
        let ok: NewMcpServer = serde_json::from_value(serde_json::json!({
            "name": "github", "transport": {"type": "http", "url": "https://example.com/mcp",
            "headers": {"Authorization": "Bearer ${secret:GITHUB_TOKEN}"}}
        }))
        .unwrap();
        assert!(ok.validate().is_ok());
        let bad: NewMcpServer = serde_json::from_value(serde_json::json!({
            "name": "Has_Underscore", "transport": {"type": "stdio", "command": "x"}
        }))
        .unwrap();
        assert_eq!(bad.validate().unwrap_err().field, "name");
        let bad: NewMcpServer = serde_json::from_value(serde_json::json!({
            "name": "s", "transport": {"type": "stdio", "command": "x", "env": {"A=B": "1"}}
        }))
        .unwrap();
        assert_eq!(bad.validate().unwrap_err().field, "transport.env.A=B");
    }

    #[test]
    fn a_private_ca_needs_https_and_no_key() {
        let server = |url: &str, pem: &str| -> NewMcpServer {
            serde_json::from_value(serde_json::json!({
                "name": "s", "transport": {"type": "http", "url": url, "ca_cert_pem": pem}
            }))
            .unwrap()
        };
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(server("https://mcp.internal/mcp", cert).validate().is_ok());
        for bad in [
            server("http://mcp.internal/mcp", cert),
            server("https://mcp.internal/mcp", "hello"),
            server(
                "https://mcp.internal/mcp",
                &format!("{cert}-----BEGIN PRIVATE KEY-----\nMC4\n-----END PRIVATE KEY-----\n"),
            ),
        ] {
            assert_eq!(bad.validate().unwrap_err().field, "transport.ca_cert_pem");
        }
    }
}
