//! Sending a request to a provider: the deployment plan in order, retries with exponential
//! backoff on connection errors, timeouts, 429 and 5xx, then the next deployment (fallback).
//! A provider's other 4xx answers (a bad request, say) are the client's to see and are returned
//! as they are.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

use crate::config::{Deployment, Provider};
use crate::error::LlmError;
use crate::SecretSource;

/// Which API is called on the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Chat,
    Embeddings,
    Messages,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Chat => "chat",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Messages => "messages",
        }
    }

    fn path(self, provider: Provider) -> &'static str {
        match (self, provider) {
            (Endpoint::Chat, Provider::Openai) => "/chat/completions",
            (Endpoint::Embeddings, Provider::Openai) => "/embeddings",
            (_, Provider::Anthropic) => "/v1/messages",
            (Endpoint::Messages, Provider::Openai) => "/messages",
        }
    }
}

/// A provider's answer: the deployment that gave it, the response, and when the first attempt
/// began.
pub struct Answer {
    pub deployment: Arc<Deployment>,
    pub response: reqwest::Response,
    pub attempts: u32,
}

pub struct Sender<'a> {
    pub http: &'a reqwest::Client,
    pub(crate) meters: &'a crate::meters::Meters,
    pub secrets: &'a dyn SecretSource,
    pub tenant: Uuid,
    pub retries: u32,
    pub backoff: Duration,
}

impl Sender<'_> {
    /// Sends `body` (with `model` set to each deployment's upstream model, in place) along
    /// `plan`. The body is serialised once per deployment; retries resend the same bytes.
    pub async fn send(
        &self,
        plan: &[Arc<Deployment>],
        endpoint: Endpoint,
        body: &mut Value,
    ) -> Result<Answer, LlmError> {
        let mut last = LlmError::new(502, "no_deployment", "no deployment could be reached");
        let mut attempts = 0;
        for deployment in plan {
            // No translation between the two wire formats (yet): OpenAI-format requests go to
            // OpenAI-compatible deployments, Anthropic-format ones to Anthropic deployments.
            if (deployment.provider == Provider::Anthropic) != (endpoint == Endpoint::Messages) {
                continue;
            }
            let key = match &deployment.api_key {
                Some(template) => match self.secrets.expand(self.tenant, template).await {
                    Ok(k) => Some(k),
                    Err(e) => {
                        last = LlmError::new(
                            502,
                            "provider_key_unavailable",
                            format!("deployment {}: {e}", deployment.name),
                        );
                        continue;
                    }
                },
                None => None,
            };
            let upstream_model = deployment.upstream_model();
            if body["model"].as_str() != Some(upstream_model) {
                body["model"] = Value::String(upstream_model.to_string());
            }
            let bytes = match serde_json::to_vec(&*body) {
                Ok(b) => axum::body::Bytes::from(b),
                Err(e) => {
                    return Err(LlmError::new(
                        500,
                        "internal",
                        format!("the request could not be serialised: {e}"),
                    ))
                }
            };
            let url = format!(
                "{}{}",
                deployment.base_url.trim_end_matches('/'),
                endpoint.path(deployment.provider)
            );
            let mut backoff = self.backoff;
            for attempt in 0..=self.retries {
                if attempt > 0 {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                attempts += 1;
                let mut req = self
                    .http
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
                req = match (deployment.provider, &key) {
                    (Provider::Openai, Some(k)) => req.bearer_auth(k),
                    (Provider::Anthropic, Some(k)) => req.header("x-api-key", k),
                    (_, None) => req,
                };
                if deployment.provider == Provider::Anthropic {
                    req = req.header("anthropic-version", "2023-06-01");
                }
                let started = Instant::now();
                let sent =
                    tokio::time::timeout(Duration::from_millis(deployment.timeout_ms), req.send())
                        .await;
                let outcome = match sent {
                    Err(_) => "timeout",
                    Ok(Err(_)) => "connect_error",
                    Ok(Ok(r)) if r.status().is_success() => {
                        self.meters
                            .upstream(&deployment.name)
                            .record(started.elapsed().as_secs_f64());
                        return Ok(Answer {
                            deployment: deployment.clone(),
                            response: r,
                            attempts,
                        });
                    }
                    Ok(Ok(r)) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                        if let Some(wait) = retry_after(&r) {
                            backoff = backoff.max(wait).min(Duration::from_secs(2));
                        }
                        if r.status().as_u16() == 429 {
                            "rate_limited"
                        } else {
                            "server_error"
                        }
                    }
                    // The provider refused the request itself: retrying or falling back would
                    // not help, so the client sees the provider's answer.
                    Ok(Ok(r)) => {
                        return Ok(Answer {
                            deployment: deployment.clone(),
                            response: r,
                            attempts,
                        })
                    }
                };
                metrics::counter!("sentinel_llm_upstream_failures_total",
                    "deployment" => deployment.name.clone(), "reason" => outcome)
                .increment(1);
                tracing::debug!(deployment = %deployment.name, attempt, outcome, "LLM upstream attempt failed");
                last = LlmError::new(
                    502,
                    "upstream_failed",
                    format!(
                        "every deployment failed; the last ({}) with {outcome}",
                        deployment.name
                    ),
                );
                if outcome == "rate_limited" {
                    last = LlmError::new(
                        429,
                        "upstream_rate_limited",
                        format!(
                            "every deployment failed; the last ({}) is rate limited",
                            deployment.name
                        ),
                    )
                    .retry_after(1);
                }
            }
        }
        Err(last)
    }
}

fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    let secs: f64 = r
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs_f64(secs.clamp(0.0, 60.0)))
}
