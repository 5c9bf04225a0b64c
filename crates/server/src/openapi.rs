//! The OpenAPI 3.1 document, generated from the route handlers' annotations (utoipa). Every
//! operation also gets the problem responses that the shared extractors can produce, so each
//! handler only declares what is particular to it.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::problem::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sentinel",
        description = "Governance control plane and gateway for AI agents.",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem)),
    modifiers(&Security, &CommonProblems),
    tags(
        (name = "tenants", description = "Isolated customers or teams"),
        (name = "agents", description = "The AI agents Sentinel governs"),
        (name = "tools", description = "What agents act with"),
        (name = "keys", description = "API keys and roles"),
        (name = "decisions", description = "Ask before acting; the decision log"),
        (name = "policies", description = "Rego bundles: push, validate, test, simulate, activate"),
        (name = "kill switch", description = "Stop a tenant, agent, tool or session at once"),
        (name = "approvals", description = "Held actions: operators answer, agents collect single-use grants"),
        (name = "audit", description = "Tamper-evident log: checkpoints, proofs, export"),
        (name = "provenance", description = "Signed manifests of executed actions (DSSE, in-toto)"),
        (name = "guard", description = "Secrets, PII, prompt injection and dangerous commands"),
        (name = "events", description = "The live event stream: SSE and WebSocket"),
        (name = "webhooks", description = "Notifications: signed webhooks (generic JSON or Slack) and their delivery log"),
        (name = "llm", description = "The LLM gateway: OpenAI- and Anthropic-compatible, governed, costed"),
        (name = "secrets", description = "Write-only credentials that upstream calls use as ${secret:NAME}"),
        (name = "mcp", description = "The MCP gateway's upstream servers and pinned tool definitions (agents connect to /mcp)"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A Sentinel API key: `Authorization: Bearer snt_…`"))
                    .build(),
            ),
        );
    }
}

struct CommonProblems;

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

impl Modify for CommonProblems {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let common = [
            (
                "400",
                "Malformed request: bad JSON, unknown field, wrong type, bad query",
            ),
            ("401", "Missing, unknown or revoked API key"),
            ("403", "The key's role does not allow this"),
            ("404", "No such resource, or it belongs to another tenant"),
            ("413", "The body exceeds the configured limit"),
            ("422", "A field failed validation; `field` names it"),
            ("503", "The database is unavailable"),
        ];
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let public = op
                    .tags
                    .as_ref()
                    .is_some_and(|t| t.iter().any(|t| t == "operations"))
                    && op.security.is_none();
                for (code, text) in common {
                    if public && code != "503" {
                        continue;
                    }
                    op.responses
                        .responses
                        .entry(code.into())
                        .or_insert_with(|| problem(text));
                }
            }
        }
    }
}
