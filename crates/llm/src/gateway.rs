//! The gateway: one request from an agent, through limits, budgets and the pipeline, to a
//! provider and back, costed and recorded.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use sentinel_core::{LlmUsage, Outcome};
use sentinel_guard::Guard;
use sentinel_pipeline::{durability, Caller, Pipeline};
use sentinel_store::Store;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::budgets::BudgetBook;
use crate::cache::ResponseCache;
use crate::config::{LlmConfig, OutputAction};
use crate::error::LlmError;
use crate::limits::RateLimiter;
use crate::meters::Meters;
use crate::output::OutputFilter;
use crate::routing::Routes;
use crate::upstream::{Endpoint, Sender};
use crate::usage::UsageRecorder;
use crate::{action, prices, SecretSource};

pub struct Gateway {
    pub(crate) config: LlmConfig,
    pub(crate) pipeline: Arc<Pipeline>,
    store: Arc<dyn Store>,
    pub(crate) guard: Arc<Guard>,
    http: reqwest::Client,
    secrets: Arc<dyn SecretSource>,
    routes: Routes,
    usage: UsageRecorder,
    limits: RateLimiter,
    budgets: BudgetBook,
    cache: ResponseCache,
    names: RwLock<HashMap<(Uuid, Uuid), (String, String)>>,
    meters: Meters,
}

/// Who is asking: the agent's key, and the session it names (`x-sentinel-session`).
#[derive(Debug, Clone)]
pub struct Client {
    pub caller: Caller,
    pub session: Option<String>,
}

/// One request's identity and timing, carried to where its usage is recorded.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub tenant: Uuid,
    pub slug: String,
    pub agent: String,
    pub model: String,
    pub session: Option<String>,
    pub endpoint: Endpoint,
    pub started: Instant,
}

impl Gateway {
    /// Starts the gateway's usage writer; call inside a Tokio runtime.
    pub fn start(
        config: LlmConfig,
        pipeline: Arc<Pipeline>,
        store: Arc<dyn Store>,
        guard: Arc<Guard>,
        secrets: Arc<dyn SecretSource>,
    ) -> Gateway {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()
            .expect("an HTTP client");
        Gateway {
            routes: Routes::new(&config),
            cache: ResponseCache::new(
                Duration::from_secs(config.cache_ttl_seconds),
                config.cache_max_entries,
            ),
            usage: UsageRecorder::start(store.clone()),
            limits: RateLimiter::default(),
            budgets: BudgetBook::default(),
            names: RwLock::new(HashMap::new()),
            meters: Meters::default(),
            config,
            pipeline,
            store,
            guard,
            http,
            secrets,
        }
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// The tenant's slug and the agent's name, cached (names do not change under an id).
    async fn names(&self, caller: &Caller) -> Result<(String, String), LlmError> {
        let key = (caller.tenant_id, caller.agent_id);
        if let Some(n) = self.names.read().unwrap().get(&key) {
            return Ok(n.clone());
        }
        let unavailable = |e: sentinel_store::StoreError| {
            LlmError::new(
                503,
                "store_unavailable",
                format!("the registry is unavailable: {e}"),
            )
        };
        let tenant = self
            .store
            .tenant(&caller.tenant_id.to_string())
            .await
            .map_err(unavailable)?
            .ok_or_else(|| LlmError::new(403, "forbidden", "the key's tenant no longer exists"))?;
        let agent = self
            .store
            .agent(caller.tenant_id, &caller.agent_id.to_string())
            .await
            .map_err(unavailable)?
            .ok_or_else(|| LlmError::new(403, "forbidden", "the key's agent is not registered"))?;
        let names = (tenant.slug, agent.name);
        self.names.write().unwrap().insert(key, names.clone());
        Ok(names)
    }

    /// `GET /v1/models`: the model names this agent's tenant can ask for.
    pub async fn models(&self, client: &Client) -> Result<Value, LlmError> {
        let (slug, _) = self.names(&client.caller).await?;
        let data: Vec<Value> = self
            .routes
            .models(&slug)
            .into_iter()
            .map(|m| json!({"id": m, "object": "model", "created": 0, "owned_by": "sentinel"}))
            .collect();
        Ok(json!({"object": "list", "data": data}))
    }

    /// Everything before the provider: limits, budgets, the pipeline's decision, redaction.
    /// Returns the request's context, the body to forward, and the deployments to try.
    async fn admit(
        &self,
        client: &Client,
        endpoint: Endpoint,
        raw: &[u8],
        started: Instant,
    ) -> Result<(Ctx, Value, Vec<Arc<crate::config::Deployment>>), LlmError> {
        let mut body = json_body(raw)?;
        let model = body["model"]
            .as_str()
            .filter(|m| !m.is_empty() && m.len() <= 256)
            .ok_or_else(|| LlmError::bad_request("`model` must be a model name"))?
            .to_string();
        match endpoint {
            Endpoint::Embeddings if body["input"].is_null() => {
                return Err(LlmError::bad_request("`input` is required"))
            }
            Endpoint::Chat | Endpoint::Messages
                if body["messages"].as_array().is_none_or(|m| m.is_empty()) =>
            {
                return Err(LlmError::bad_request(
                    "`messages` must be a non-empty array",
                ))
            }
            _ => {}
        }
        let (slug, agent) = self.names(&client.caller).await?;
        let tenant = client.caller.tenant_id;
        let plan = self.routes.plan(&slug, &model);
        if plan.is_empty() {
            return Err(LlmError::new(
                404,
                "model_not_found",
                format!("no deployment serves model {model:?} for tenant {slug}"),
            ));
        }
        // The body as the agent sent it: no need to serialise the parsed body again.
        let prompt_estimate = raw.len() as u64 / 4;
        if let Err(l) = self.limits.admit(
            tenant,
            &slug,
            &agent,
            &self.config.rate_limits,
            prompt_estimate,
        ) {
            metrics::counter!("sentinel_llm_rejected_total", "reason" => "rate_limit").increment(1);
            return Err(LlmError::new(
                429,
                "rate_limited",
                format!(
                    "{} per minute limit of {} ({}) reached",
                    l.what, l.limit, l.scope
                ),
            )
            .retry_after(l.retry_after));
        }
        if let Err(b) = self
            .budgets
            .check(
                self.store.as_ref(),
                tenant,
                &slug,
                &agent,
                &self.config.budgets,
            )
            .await
        {
            metrics::counter!("sentinel_llm_rejected_total", "reason" => "budget").increment(1);
            return Err(LlmError::new(
                429,
                "budget_exceeded",
                format!(
                    "the {} budget of ${:.2} is spent (${:.4}); it resets in {} s",
                    b.scope, b.usd, b.spent_usd, b.resets_in
                ),
            )
            .retry_after(b.resets_in));
        }
        let action = action::build(endpoint, &body, &model, client.session.clone());
        let decision = self.pipeline.decide(client.caller, action).await;
        let details = || {
            json!({"decision_id": decision.decision_id, "reasons": decision.reasons,
                "approval_id": decision.approval_id})
        };
        match decision.outcome {
            Outcome::Allow => {}
            Outcome::Deny => {
                metrics::counter!("sentinel_llm_rejected_total", "reason" => "policy").increment(1);
                return Err(
                    LlmError::new(403, "policy_denied", decision.reasons.join("; "))
                        .with_details(details()),
                );
            }
            Outcome::ApprovalRequired => {
                metrics::counter!("sentinel_llm_rejected_total", "reason" => "approval")
                    .increment(1);
                return Err(LlmError::new(
                    403,
                    "approval_required",
                    format!("held for approval: {}", decision.reasons.join("; ")),
                )
                .with_details(details()));
            }
        }
        if !decision.obligations.redact.is_empty() {
            let n = action::redact(&self.guard, &mut body, &decision.obligations.redact);
            metrics::counter!("sentinel_llm_redactions_total", "direction" => "input")
                .increment(n as u64);
        }
        let ctx = Ctx {
            tenant,
            slug,
            agent,
            model,
            session: client.session.clone(),
            endpoint,
            started,
        };
        Ok((ctx, body, plan))
    }

    fn sender(&self, tenant: Uuid) -> Sender<'_> {
        Sender {
            http: &self.http,
            meters: &self.meters,
            secrets: self.secrets.as_ref(),
            tenant,
            retries: self.config.retries,
            backoff: Duration::from_millis(self.config.retry_backoff_ms),
        }
    }

    /// One OpenAI chat completion or embeddings request, or one Anthropic messages request.
    ///
    /// With strict audit, the provider call runs while the decision's audit entry is being made
    /// durable (a model call has no side effect of its own until its answer is released), and
    /// nothing — answer, stream or refusal — is released before the entry is durable. If it
    /// cannot be made durable, the answer is withheld with a 503.
    ///
    /// `body` is the request body as the agent sent it (a JSON object).
    pub async fn call(
        self: Arc<Self>,
        client: Client,
        endpoint: Endpoint,
        body: &[u8],
    ) -> Result<Response, LlmError> {
        let started = Instant::now();
        durability::deferring(async move {
            let result = self.forward(client, endpoint, body, started).await;
            match durability::settle().await {
                Ok(()) => result,
                Err(reason) => {
                    metrics::counter!("sentinel_llm_rejected_total", "reason" => "audit")
                        .increment(1);
                    tracing::error!(%reason, "LLM answer withheld: its audit entry is not durable");
                    Err(LlmError::new(
                        503,
                        "audit_unavailable",
                        format!(
                            "the answer is withheld because its audit entry could not be made \
                             durable: {reason}"
                        ),
                    ))
                }
            }
        })
        .await
    }

    /// [`Gateway::call`] without the final wait for audit durability.
    async fn forward(
        self: Arc<Self>,
        client: Client,
        endpoint: Endpoint,
        raw: &[u8],
        started: Instant,
    ) -> Result<Response, LlmError> {
        let (ctx, mut body, plan) = self.admit(&client, endpoint, raw, started).await?;
        let stream = body["stream"] == json!(true) && endpoint != Endpoint::Embeddings;
        let client_wants_usage = body["stream_options"]["include_usage"] == json!(true);
        if stream && endpoint == Endpoint::Chat {
            // Always ask for usage, so streams are costed; stripped again below when the client
            // did not ask.
            if !body["stream_options"].is_object() {
                body["stream_options"] = json!({});
            }
            body["stream_options"]["include_usage"] = json!(true);
        }
        let cache_key = (!stream && self.cache.enabled())
            .then(|| ResponseCache::key(ctx.tenant, endpoint.as_str(), &body));
        if let Some(hit) = cache_key.as_ref().and_then(|k| self.cache.get(k)) {
            metrics::counter!("sentinel_llm_cache_hits_total").increment(1);
            let (p, c) = usage_of(endpoint, &hit);
            self.record(&ctx, "cache", None, p, c, 200, true);
            let mut r = axum::Json(hit).into_response();
            r.headers_mut().insert(
                "x-sentinel-cache",
                axum::http::HeaderValue::from_static("hit"),
            );
            return Ok(r);
        }
        let answer = self
            .sender(ctx.tenant)
            .send(&plan, endpoint, &mut body)
            .await
            .inspect_err(|e| {
                self.record(&ctx, "none", None, 0, 0, e.status, false);
            })?;
        let status = answer.response.status().as_u16();
        let deployment = answer.deployment.clone();
        if !answer.response.status().is_success() {
            let text = answer.response.text().await.unwrap_or_default();
            self.record(
                &ctx,
                &deployment.name,
                Some(&deployment),
                0,
                0,
                status,
                false,
            );
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(String::from))
                .unwrap_or(text);
            return Err(LlmError::new(
                status,
                "upstream_error",
                format!(
                    "deployment {} answered {status}: {message}",
                    deployment.name
                ),
            ));
        }
        if stream {
            return Ok(crate::stream::relay(
                self.clone(),
                ctx,
                answer,
                client_wants_usage,
            ));
        }
        let invalid = |e: &dyn std::fmt::Display| {
            LlmError::new(
                502,
                "upstream_invalid",
                format!(
                    "deployment {} answered with invalid JSON: {e}",
                    deployment.name
                ),
            )
        };
        let raw_reply = answer.response.bytes().await.map_err(|e| invalid(&e))?;
        let mut reply: Value = serde_json::from_slice(&raw_reply).map_err(|e| invalid(&e))?;
        let (p, c) = usage_of(endpoint, &reply);
        self.record(
            &ctx,
            &deployment.name,
            Some(&deployment),
            p,
            c,
            status,
            false,
        );
        let masked = self.scan_answer(endpoint, &mut reply)?;
        self.decide_tool_calls(&client, &ctx, &reply).await?;
        if let Some(k) = cache_key {
            self.cache.put(k, reply.clone());
        }
        if masked {
            return Ok(axum::Json(reply).into_response());
        }
        // Nothing was masked: the provider's bytes are the answer, not serialised again.
        Ok((
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            raw_reply,
        )
            .into_response())
    }

    /// Output scan of a whole (non-streaming) answer: secrets are masked or block the answer.
    /// Returns whether anything was masked.
    fn scan_answer(&self, endpoint: Endpoint, reply: &mut Value) -> Result<bool, LlmError> {
        let stop = self.config.output_action == OutputAction::Stop;
        // `get_mut`, not `IndexMut`: the answer is left as the provider wrote it (no `null`
        // members added) unless something in it is masked.
        fn items<'a>(v: &'a mut Value, key: &str) -> Vec<&'a mut Value> {
            v.get_mut(key)
                .and_then(Value::as_array_mut)
                .map(|a| a.iter_mut().collect())
                .unwrap_or_default()
        }
        let texts: Vec<&mut Value> = match endpoint {
            Endpoint::Chat => items(reply, "choices")
                .into_iter()
                .filter_map(|c| c.get_mut("message")?.get_mut("content"))
                .collect(),
            Endpoint::Messages => items(reply, "content")
                .into_iter()
                .filter_map(|c| c.get_mut("text"))
                .collect(),
            Endpoint::Embeddings => Vec::new(),
        };
        let mut masked = false;
        for t in texts {
            let Some(s) = t.as_str() else { continue };
            let mut f = OutputFilter::new(self.guard.clone(), 0, stop);
            match f.whole(s) {
                Ok(clean) => {
                    if !f.redacted.is_empty() {
                        masked = true;
                        metrics::counter!("sentinel_llm_redactions_total", "direction" => "output")
                            .increment(f.redacted.len() as u64);
                        *t = Value::String(clean);
                    }
                }
                Err(stopped) => {
                    return Err(LlmError::new(
                        403,
                        "output_blocked",
                        format!(
                            "the model's answer held a secret ({}) and was blocked",
                            stopped.rule
                        ),
                    ))
                }
            }
        }
        Ok(masked)
    }

    /// Tool calls a model proposes are decided by policy before the agent sees them: the
    /// answer becomes an `llm_request` action with endpoint `chat.tool_calls` and the proposed
    /// calls (name and parsed arguments) as `tool_calls`. A denial withholds the answer.
    async fn decide_tool_calls(
        &self,
        client: &Client,
        ctx: &Ctx,
        reply: &Value,
    ) -> Result<(), LlmError> {
        let calls: Vec<Value> = reply["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["message"]["tool_calls"].as_array())
            .flatten()
            .map(|t| {
                let raw = &t["function"]["arguments"];
                let args = raw
                    .as_str()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .unwrap_or_else(|| raw.clone());
                json!({"name": t["function"]["name"], "arguments": args})
            })
            .collect();
        if calls.is_empty() {
            return Ok(());
        }
        let mut action = action::build(
            Endpoint::Chat,
            &json!({}),
            &ctx.model,
            client.session.clone(),
        );
        action.arguments["endpoint"] = json!("chat.tool_calls");
        action.arguments["tool_calls"] = Value::Array(calls);
        let decision = self.pipeline.decide(client.caller, action).await;
        if decision.outcome == Outcome::Deny {
            metrics::counter!("sentinel_llm_rejected_total", "reason" => "tool_call").increment(1);
            return Err(
                LlmError::new(403, "tool_call_denied", decision.reasons.join("; "))
                    .with_details(json!({"decision_id": decision.decision_id})),
            );
        }
        Ok(())
    }

    /// Whether a kill switch now covers this request (checked between stream chunks).
    pub(crate) fn killed(&self, ctx: &Ctx) -> Option<String> {
        self.pipeline
            .kills
            .covering(ctx.tenant, &ctx.agent, &ctx.model, ctx.session.as_deref())
            .map(|k| k.reason)
    }

    /// Costs a finished request, charges budgets and limits, and queues its usage row.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        &self,
        ctx: &Ctx,
        deployment_name: &str,
        deployment: Option<&crate::config::Deployment>,
        prompt: u64,
        completion: u64,
        status: u16,
        cached: bool,
    ) {
        let price = deployment.and_then(|d| {
            d.price
                .or_else(|| prices::shipped(d.upstream_model()))
                .or_else(|| prices::shipped(&d.model))
        });
        if deployment.is_some() && price.is_none() && status < 400 {
            metrics::counter!("sentinel_llm_unpriced_total").increment(1);
        }
        let cost = if cached {
            0
        } else {
            price.map_or(0, |p| p.cost_micros(prompt, completion))
        };
        self.budgets.charge(
            ctx.tenant,
            &ctx.slug,
            &ctx.agent,
            &self.config.budgets,
            cost,
        );
        self.limits.spend_tokens(
            ctx.tenant,
            &ctx.slug,
            &ctx.agent,
            &self.config.rate_limits,
            completion,
        );
        let m = self.meters.request(&ctx.model, deployment_name);
        m.requests.increment(1);
        m.prompt_tokens.increment(prompt);
        m.completion_tokens.increment(completion);
        m.cost_micros.increment(cost);
        m.seconds.record(ctx.started.elapsed().as_secs_f64());
        self.usage.record(LlmUsage {
            id: sentinel_core::new_id(),
            tenant_id: ctx.tenant,
            agent: ctx.agent.clone(),
            model: ctx.model.clone(),
            deployment: deployment_name.to_string(),
            endpoint: ctx.endpoint.as_str().to_string(),
            prompt_tokens: prompt,
            completion_tokens: completion,
            cost_micros: cost,
            status,
            latency_ms: ctx.started.elapsed().as_millis() as u64,
            created_at: sentinel_core::ids::now(),
        });
    }
}

/// The request body, which must be a JSON object.
fn json_body(raw: &[u8]) -> Result<Value, LlmError> {
    match serde_json::from_slice::<Value>(raw) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(LlmError::bad_request("the body must be a JSON object")),
        Err(e) => Err(LlmError::bad_request(format!("the body is not JSON: {e}"))),
    }
}

/// Prompt and completion tokens as the provider reported them.
pub(crate) fn usage_of(endpoint: Endpoint, reply: &Value) -> (u64, u64) {
    let u = &reply["usage"];
    match endpoint {
        Endpoint::Messages => (
            u["input_tokens"].as_u64().unwrap_or(0),
            u["output_tokens"].as_u64().unwrap_or(0),
        ),
        _ => (
            u["prompt_tokens"].as_u64().unwrap_or(0),
            u["completion_tokens"].as_u64().unwrap_or(0),
        ),
    }
}
