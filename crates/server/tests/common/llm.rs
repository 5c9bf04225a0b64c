//! A Sentinel server with the LLM gateway pointed at the mock provider, for the gateway's tests.

use sentinel_llm::config::{Budget, BudgetPeriod, Deployment, Provider, RateLimit};
use sentinel_llm::prices::Price;
use sentinel_testkit::mock_llm::{MockLlm, MockOptions};
use serde_json::{json, Value};

use super::{shipped_bundle, TestServer};

pub const PROVIDER_KEY: &str = "sk-mock-provider-key";

pub struct Gateway {
    pub s: TestServer,
    pub mock: MockLlm,
    /// Agent `bot`: no limits.
    pub key: String,
    /// Agent `budget-bot`: a tiny daily budget.
    pub budget_key: String,
    /// Agent `rate-bot`: 2 requests per minute.
    pub rate_key: String,
    pub operator_key: String,
}

fn deployment(name: &str, model: &str, upstream: &str, base_url: &str) -> Deployment {
    Deployment {
        name: name.into(),
        tenant: "*".into(),
        model: model.into(),
        provider: Provider::Openai,
        base_url: base_url.into(),
        upstream_model: Some(upstream.into()),
        // From the tenant's secret store, expanded per request.
        api_key: Some("${secret:MOCK_PROVIDER_KEY}".into()),
        weight: 1,
        timeout_ms: 2_000,
        // $10 per million tokens each way: a mock answer costs a few hundred micro-dollars.
        price: Some(Price {
            input: 10.0,
            output: 10.0,
        }),
    }
}

impl Gateway {
    /// On SQLite.
    pub async fn start(options: MockOptions) -> Gateway {
        let (dir, url) = sentinel_testkit::sqlite();
        Gateway::start_on(options, url, Some(dir)).await
    }

    pub async fn start_on(
        options: MockOptions,
        url: String,
        dir: Option<tempfile::TempDir>,
    ) -> Gateway {
        let mock = MockLlm::start(MockOptions {
            api_key: Some(PROVIDER_KEY.into()),
            ..options
        })
        .await;
        let v1 = format!("{}/v1", mock.base_url);
        let mut config = sentinel_server::Config::default();
        config.llm.deployments = vec![
            deployment("main", "mock-small", "mock-small", &v1),
            deployment("broken", "flaky", "error-500", &v1),
            deployment("leaky", "leaky", "leaky", &v1),
            deployment("tools", "toolcall", "toolcall", &v1),
            Deployment {
                provider: Provider::Anthropic,
                ..deployment("claude", "claude-mock", "claude-mock", &mock.base_url)
            },
        ];
        config.llm.fallbacks = [("flaky".to_string(), vec!["mock-small".to_string()])].into();
        config.llm.retry_backoff_ms = 5;
        config.llm.budgets = vec![Budget {
            tenant: "acme".into(),
            agent: Some("budget-bot".into()),
            period: BudgetPeriod::Day,
            usd: 0.0001,
        }];
        config.llm.rate_limits = vec![RateLimit {
            tenant: "acme".into(),
            agent: Some("rate-bot".into()),
            rpm: Some(2),
            tpm: None,
        }];
        let s = TestServer::start(url, dir, config).await;
        s.tenant("acme").await;
        s.call(
            reqwest::Method::PUT,
            "/v1/tenants/acme/secrets/MOCK_PROVIDER_KEY",
            &s.admin_key,
            Some(json!({"value": PROVIDER_KEY})),
        )
        .await
        .ok(201);
        for agent in ["bot", "budget-bot", "rate-bot"] {
            s.post(
                "/v1/tenants/acme/agents",
                &s.admin_key,
                json!({"name": agent}),
            )
            .await
            .ok(201);
        }
        let mut bundle = shipped_bundle("baseline");
        bundle["data"] = json!({"llm": {"max_tokens": 1000, "denied_tools": ["delete_database"]}});
        s.post(
            "/v1/tenants/acme/policies?activate=true",
            &s.admin_key,
            bundle,
        )
        .await
        .ok(201);
        let key = s.key("acme", "agent", Some("bot")).await;
        let budget_key = s.key("acme", "agent", Some("budget-bot")).await;
        let rate_key = s.key("acme", "agent", Some("rate-bot")).await;
        let operator_key = s.key("acme", "operator", None).await;
        Gateway {
            s,
            mock,
            key,
            budget_key,
            rate_key,
            operator_key,
        }
    }

    /// `POST path` with `key`, returning status and body (JSON, or the raw text of a stream).
    pub async fn send(&self, path: &str, key: &str, body: Value) -> (u16, String) {
        let r = self
            .s
            .http
            .post(format!("{}{path}", self.s.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    pub async fn chat(&self, key: &str, body: Value) -> (u16, Value) {
        let (status, text) = self.send("/v1/chat/completions", key, body).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// The `data:` payloads of an SSE text.
pub fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(String::from)
        .collect()
}

/// The assistant text of an OpenAI stream.
pub fn streamed_text(text: &str) -> String {
    sse_data(text)
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect()
}
