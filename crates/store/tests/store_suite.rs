//! The store contract, run against both real backends: a temporary SQLite file and a throwaway
//! PostgreSQL server started by the test kit.

use std::collections::BTreeMap;
use std::sync::Arc;

use sentinel_core::*;
use sentinel_store::{AgentFilter, ApprovalFilter, Store, StoreError, ToolFilter};
use time::Duration;
use uuid::Uuid;

/// Runs one async test body against SQLite and against PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (_dir, url) = sentinel_testkit::sqlite();
                super::$name(sentinel_store::open(&url).await.unwrap(), url).await;
            }
            #[tokio::test]
            async fn postgres() {
                let url = sentinel_testkit::postgres().fresh_database();
                super::$name(sentinel_store::open(&url).await.unwrap(), url).await;
            }
        }
    )*};
}

on_both_backends!(
    tenants_round_trip,
    duplicate_slugs_conflict,
    agents_crud_and_filters,
    tools_crud_and_filters,
    pagination_walks_every_item_once,
    api_keys_lifecycle,
    tenants_are_isolated,
    deleting_a_tenant_removes_what_it_owns,
    migrations_are_idempotent,
    approvals_change_only_from_the_version_read,
    webhooks_crud_and_isolation,
    deliveries_queue_retry_and_log,
    llm_usage_batches_are_written_whole,
    a_cancelled_audit_write_leaves_no_transaction_open,
    audit_rows_keep_every_character,
);

fn tenant(slug: &str) -> Tenant {
    Tenant {
        id: new_id(),
        slug: slug.into(),
        display_name: slug.to_uppercase(),
        created_at: ids::now(),
    }
}

fn agent(tenant: &Tenant, name: &str) -> Agent {
    Agent {
        id: new_id(),
        tenant_id: tenant.id,
        name: name.into(),
        framework: Some("langgraph".into()),
        owner: None,
        description: Some("watches the pager".into()),
        status: AgentStatus::Active,
        labels: BTreeMap::from([("team".into(), "sre".into())]),
        created_at: ids::now(),
        updated_at: ids::now(),
    }
}

fn tool(tenant: &Tenant, name: &str, risk: Risk) -> Tool {
    Tool {
        id: new_id(),
        tenant_id: tenant.id,
        name: name.into(),
        kind: ToolKind::Mcp,
        server: Some("k8s-mcp".into()),
        url: None,
        owner: Some("platform".into()),
        scopes: vec!["k8s:write".into()],
        risk,
        metadata: serde_json::json!({"rollout": {"max_surge": 1}}),
        is_active: true,
        created_at: ids::now(),
        updated_at: ids::now(),
    }
}

async fn tenants_round_trip(store: Arc<dyn Store>, _url: String) {
    store.ping().await.unwrap();
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    assert_eq!(store.tenant("acme").await.unwrap(), Some(t.clone()));
    assert_eq!(
        store.tenant(&t.id.to_string()).await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(store.tenant("nobody").await.unwrap(), None);
    let renamed = Tenant {
        display_name: "Acme Corp".into(),
        ..t.clone()
    };
    store.update_tenant(&renamed).await.unwrap();
    assert_eq!(
        store.tenant("acme").await.unwrap().unwrap().display_name,
        "Acme Corp"
    );
}

async fn duplicate_slugs_conflict(store: Arc<dyn Store>, _url: String) {
    store.insert_tenant(&tenant("acme")).await.unwrap();
    let err = store.insert_tenant(&tenant("acme")).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref what) if what.contains("acme")),
        "{err:?}"
    );
}

async fn agents_crud_and_filters(store: Arc<dyn Store>, _url: String) {
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let a = agent(&t, "sre-bot");
    store.insert_agent(&a).await.unwrap();
    let mut b = agent(&t, "triage");
    b.framework = Some("crewai".into());
    b.labels = BTreeMap::from([("team".into(), "support".into())]);
    b.owner = Some("alice@example.com".into());
    store.insert_agent(&b).await.unwrap();

    assert_eq!(store.agent(t.id, "sre-bot").await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.agent(t.id, &b.id.to_string()).await.unwrap(),
        Some(b.clone())
    );
    assert!(matches!(
        store.insert_agent(&agent(&t, "sre-bot")).await,
        Err(StoreError::Conflict(_))
    ));

    let all = PageRequest::default();
    let crew = AgentFilter {
        framework: Some("crewai".into()),
        ..Default::default()
    };
    assert_eq!(
        store.list_agents(t.id, &crew, all).await.unwrap().items,
        vec![b.clone()]
    );
    let sre = AgentFilter {
        label: Some(("team".into(), "sre".into())),
        ..Default::default()
    };
    assert_eq!(
        store.list_agents(t.id, &sre, all).await.unwrap().items,
        vec![a.clone()]
    );
    let owned = AgentFilter {
        owner: Some("alice@example.com".into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_agents(t.id, &owned, all)
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    let mut killed = a.clone();
    killed.status = AgentStatus::Killed;
    killed.description = None;
    killed.updated_at = ids::now() + Duration::seconds(1);
    store.update_agent(&killed).await.unwrap();
    assert_eq!(
        store.agent(t.id, "sre-bot").await.unwrap(),
        Some(killed.clone())
    );
    let only_killed = AgentFilter {
        status: Some(AgentStatus::Killed),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_agents(t.id, &only_killed, all)
            .await
            .unwrap()
            .items,
        vec![killed]
    );

    assert!(store.delete_agent(t.id, a.id).await.unwrap());
    assert!(!store.delete_agent(t.id, a.id).await.unwrap());
    assert_eq!(store.agent(t.id, "sre-bot").await.unwrap(), None);
}

async fn tools_crud_and_filters(store: Arc<dyn Store>, _url: String) {
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let restart = tool(&t, "restart_pod", Risk::Warning);
    let rollback = tool(&t, "rollback_deployment", Risk::Critical);
    let mut fetch = tool(&t, "fetch", Risk::Safe);
    fetch.kind = ToolKind::Http;
    fetch.server = None;
    fetch.url = Some("https://api.example.com".into());
    for x in [&restart, &rollback, &fetch] {
        store.insert_tool(x).await.unwrap();
    }
    // The same name on another server is another tool; on the same server it collides.
    let mut elsewhere = tool(&t, "restart_pod", Risk::Warning);
    elsewhere.server = Some("other-mcp".into());
    store.insert_tool(&elsewhere).await.unwrap();
    assert!(matches!(
        store
            .insert_tool(&tool(&t, "restart_pod", Risk::Safe))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let mut unserved = tool(&t, "fetch", Risk::Safe);
    unserved.server = None;
    assert!(matches!(
        store.insert_tool(&unserved).await,
        Err(StoreError::Conflict(_))
    ));

    assert_eq!(
        store.tool(t.id, &fetch.id.to_string()).await.unwrap(),
        Some(fetch.clone())
    );
    let all = PageRequest::default();
    let critical = ToolFilter {
        risk: Some(Risk::Critical),
        ..Default::default()
    };
    assert_eq!(
        store.list_tools(t.id, &critical, all).await.unwrap().items,
        vec![rollback.clone()]
    );
    let http = ToolFilter {
        kind: Some(ToolKind::Http),
        ..Default::default()
    };
    assert_eq!(
        store.list_tools(t.id, &http, all).await.unwrap().items,
        vec![fetch.clone()]
    );
    let on_k8s = ToolFilter {
        server: Some("k8s-mcp".into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_tools(t.id, &on_k8s, all)
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    let mut off = rollback.clone();
    off.is_active = false;
    off.risk = Risk::Warning;
    off.metadata = serde_json::json!({});
    store.update_tool(&off).await.unwrap();
    let inactive = ToolFilter {
        is_active: Some(false),
        ..Default::default()
    };
    assert_eq!(
        store.list_tools(t.id, &inactive, all).await.unwrap().items,
        vec![off]
    );
    assert!(store.delete_tool(t.id, fetch.id).await.unwrap());
    assert_eq!(
        store
            .list_tools(t.id, &ToolFilter::default(), all)
            .await
            .unwrap()
            .items
            .len(),
        3
    );
}

async fn pagination_walks_every_item_once(store: Arc<dyn Store>, _url: String) {
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let mut made = Vec::new();
    for i in 0..23 {
        let a = agent(&t, &format!("agent-{i:02}"));
        store.insert_agent(&a).await.unwrap();
        made.push(a.id);
    }
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: 5,
        after: None,
    };
    loop {
        let got = store
            .list_agents(t.id, &AgentFilter::default(), page)
            .await
            .unwrap();
        assert!(got.items.len() <= 5);
        seen.extend(got.items.iter().map(|a| a.id));
        match got.next_cursor {
            Some(c) => page.after = Some(c.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, made, "every agent once, in creation order");
}

async fn api_keys_lifecycle(store: Arc<dyn Store>, _url: String) {
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let a = agent(&t, "bot");
    store.insert_agent(&a).await.unwrap();
    let key = ApiKey {
        id: new_id(),
        tenant_id: Some(t.id),
        role: Role::Agent,
        agent_id: Some(a.id),
        name: "bot key".into(),
        secret_hash: [7; 32],
        created_at: ids::now(),
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_api_key(&key).await.unwrap();
    let admin = ApiKey {
        id: new_id(),
        tenant_id: None,
        role: Role::Admin,
        agent_id: None,
        ..key.clone()
    };
    store.insert_api_key(&admin).await.unwrap();
    assert_eq!(store.api_key(key.id).await.unwrap(), Some(key.clone()));
    assert_eq!(
        store
            .list_api_keys(Some(t.id), PageRequest::default())
            .await
            .unwrap()
            .items,
        vec![key.clone()]
    );
    assert_eq!(
        store
            .list_api_keys(None, PageRequest::default())
            .await
            .unwrap()
            .items,
        vec![admin]
    );

    let used = ids::now();
    store.touch_api_key(key.id, used).await.unwrap();
    assert_eq!(
        store.api_key(key.id).await.unwrap().unwrap().last_used_at,
        Some(used)
    );
    assert!(store.revoke_api_key(key.id, used).await.unwrap());
    assert!(
        !store.revoke_api_key(key.id, used).await.unwrap(),
        "revoking twice is a no-op"
    );
    assert_eq!(
        store.api_key(key.id).await.unwrap().unwrap().revoked_at,
        Some(used)
    );
    assert_eq!(store.api_key(Uuid::now_v7()).await.unwrap(), None);
}

async fn tenants_are_isolated(store: Arc<dyn Store>, _url: String) {
    let (mine, theirs) = (tenant("mine"), tenant("theirs"));
    store.insert_tenant(&mine).await.unwrap();
    store.insert_tenant(&theirs).await.unwrap();
    let secret = agent(&theirs, "their-bot");
    store.insert_agent(&secret).await.unwrap();
    let their_tool = tool(&theirs, "drop_db", Risk::Critical);
    store.insert_tool(&their_tool).await.unwrap();

    assert_eq!(store.agent(mine.id, "their-bot").await.unwrap(), None);
    assert_eq!(
        store.agent(mine.id, &secret.id.to_string()).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .tool(mine.id, &their_tool.id.to_string())
            .await
            .unwrap(),
        None
    );
    assert!(store
        .list_agents(mine.id, &AgentFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(!store.delete_agent(mine.id, secret.id).await.unwrap());
    assert!(!store.delete_tool(mine.id, their_tool.id).await.unwrap());
    let mut hijack = secret.clone();
    hijack.tenant_id = mine.id;
    assert!(matches!(
        store.update_agent(&hijack).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.agent(theirs.id, "their-bot").await.unwrap().is_some());
}

async fn deleting_a_tenant_removes_what_it_owns(store: Arc<dyn Store>, _url: String) {
    let t = tenant("gone");
    store.insert_tenant(&t).await.unwrap();
    let a = agent(&t, "bot");
    store.insert_agent(&a).await.unwrap();
    store.insert_tool(&tool(&t, "x", Risk::Safe)).await.unwrap();
    assert!(store.delete_tenant(t.id).await.unwrap());
    assert_eq!(store.tenant("gone").await.unwrap(), None);
    assert_eq!(store.agent(t.id, "bot").await.unwrap(), None);
    assert!(store
        .list_tools(t.id, &ToolFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
}

async fn migrations_are_idempotent(store: Arc<dyn Store>, url: String) {
    // Opening an already-migrated database again must neither fail nor lose data, even while
    // another store has it open (a restart beside a running node).
    let t = tenant("kept");
    store.insert_tenant(&t).await.unwrap();
    let again = sentinel_store::open(&url).await.unwrap();
    assert_eq!(again.tenant("kept").await.unwrap(), Some(t));
}

async fn approvals_change_only_from_the_version_read(store: Arc<dyn Store>, _url: String) {
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let now = ids::now();
    let action: Action = serde_json::from_value(serde_json::json!(
        {"kind": "tool_call", "target": {"tool": "rollback"}, "arguments": {"to": "v41"}}
    ))
    .unwrap();
    let pending = Approval {
        id: new_id(),
        tenant_id: t.id,
        decision_id: new_id(),
        agent_id: new_id(),
        agent: "bot".into(),
        tool: "rollback".into(),
        session: None,
        action,
        action_digest: "sha256:ab".into(),
        reasons: vec!["needs a human".into()],
        risk: Risk::Critical,
        required_approvals: 1,
        votes: vec![],
        status: ApprovalStatus::Pending,
        resolution: None,
        requested_by: new_id(),
        created_at: now,
        expires_at: now + Duration::seconds(1),
        decided_at: None,
        grant_expires_at: None,
        grant_used_at: None,
        grant_decision_id: None,
        version: 0,
    };
    store.insert_approval(&pending).await.unwrap();
    assert_eq!(
        store.approval(pending.id).await.unwrap(),
        Some(pending.clone())
    );
    let found = store
        .pending_approval(t.id, pending.agent_id, "sha256:ab")
        .await
        .unwrap();
    assert_eq!(found.map(|a| a.id), Some(pending.id));

    // Two writers read version 0; only the first change lands.
    let mut approved = pending.clone();
    approved.status = ApprovalStatus::Approved;
    approved.version = 1;
    let mut denied = pending.clone();
    denied.status = ApprovalStatus::Denied;
    denied.version = 1;
    assert!(store.update_approval(&approved, 0).await.unwrap());
    assert!(!store.update_approval(&denied, 0).await.unwrap());
    let stored = store.approval(pending.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ApprovalStatus::Approved);
    assert!(store
        .pending_approval(t.id, pending.agent_id, "sha256:ab")
        .await
        .unwrap()
        .is_none());

    // Filters and the expiry sweep see only what they should.
    let by_status = |status| ApprovalFilter {
        status: Some(status),
        ..Default::default()
    };
    let page = PageRequest::default();
    let listed = store
        .list_approvals(t.id, &by_status(ApprovalStatus::Approved), page)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let none = store
        .list_approvals(t.id, &by_status(ApprovalStatus::Pending), page)
        .await
        .unwrap();
    assert!(none.items.is_empty());
    let mut second = pending.clone();
    second.id = new_id();
    store.insert_approval(&second).await.unwrap();
    let later = now + Duration::seconds(5);
    let due = store.due_approvals(later, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![second.id]
    );
    assert!(store.due_approvals(now, 10).await.unwrap().is_empty());
}

fn webhook(tenant: &Tenant, name: &str) -> Webhook {
    Webhook {
        id: new_id(),
        tenant_id: tenant.id,
        name: name.into(),
        url: "https://hooks.example.com/x".into(),
        format: WebhookFormat::Slack,
        events: vec!["approval.requested".into()],
        active: true,
        secret_version: 0,
        created_at: ids::now(),
    }
}

fn delivery(hook: &Webhook, due_in: Duration) -> Delivery {
    let now = ids::now();
    Delivery {
        id: new_id(),
        webhook_id: hook.id,
        tenant_id: hook.tenant_id,
        event_id: "abc-1".into(),
        event_type: "approval.requested".into(),
        body: "{\"type\":\"approval.requested\"}".into(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        last_status: None,
        last_error: None,
        next_attempt_at: now + due_in,
        created_at: now,
        delivered_at: None,
    }
}

async fn webhooks_crud_and_isolation(store: Arc<dyn Store>, _url: String) {
    let (mine, theirs) = (tenant("mine"), tenant("theirs"));
    store.insert_tenant(&mine).await.unwrap();
    store.insert_tenant(&theirs).await.unwrap();
    let mut hook = webhook(&mine, "pager");
    store.insert_webhook(&hook).await.unwrap();
    store
        .insert_webhook(&webhook(&theirs, "pager"))
        .await
        .unwrap();
    assert!(matches!(
        store.insert_webhook(&webhook(&mine, "pager")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.webhooks(mine.id).await.unwrap(), vec![hook.clone()]);

    hook.active = false;
    hook.secret_version = 2;
    hook.events = vec!["*".into()];
    assert!(store.update_webhook(&hook).await.unwrap());
    assert_eq!(store.webhooks(mine.id).await.unwrap(), vec![hook.clone()]);
    let mut hijack = hook.clone();
    hijack.tenant_id = theirs.id;
    assert!(!store.update_webhook(&hijack).await.unwrap());
    assert!(!store.delete_webhook(theirs.id, hook.id).await.unwrap());
    assert!(store.delete_webhook(mine.id, hook.id).await.unwrap());
    assert!(store.webhooks(mine.id).await.unwrap().is_empty());
    assert_eq!(store.webhooks(theirs.id).await.unwrap().len(), 1);
}

async fn deliveries_queue_retry_and_log(store: Arc<dyn Store>, _url: String) {
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let hook = webhook(&t, "pager");
    store.insert_webhook(&hook).await.unwrap();
    let now_due = delivery(&hook, Duration::seconds(-1));
    let later = delivery(&hook, Duration::minutes(5));
    store
        .insert_deliveries(&[now_due.clone(), later.clone()])
        .await
        .unwrap();
    let due = store.due_deliveries(ids::now(), 10).await.unwrap();
    assert_eq!(due, vec![now_due.clone()]);

    // Two nodes read it; only the first lease wins, and a leased delivery is not due.
    let until = ids::now() + Duration::seconds(60);
    assert!(store
        .lease_delivery(now_due.id, now_due.next_attempt_at, until)
        .await
        .unwrap());
    assert!(!store
        .lease_delivery(now_due.id, now_due.next_attempt_at, until)
        .await
        .unwrap());
    assert!(store
        .due_deliveries(ids::now(), 10)
        .await
        .unwrap()
        .is_empty());

    // A failed attempt moves it back; a delivered one leaves the queue.
    let mut retried = now_due.clone();
    retried.attempts = 1;
    retried.last_status = Some(500);
    retried.last_error = Some("HTTP 500".into());
    retried.next_attempt_at = ids::now() + Duration::minutes(1);
    store.update_delivery(&retried).await.unwrap();
    assert!(store
        .due_deliveries(ids::now(), 10)
        .await
        .unwrap()
        .is_empty());
    let due = store
        .due_deliveries(ids::now() + Duration::minutes(10), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 2);
    let mut delivered = retried.clone();
    delivered.status = DeliveryStatus::Delivered;
    delivered.attempts = 2;
    delivered.delivered_at = Some(ids::now());
    store.update_delivery(&delivered).await.unwrap();
    let due = store
        .due_deliveries(ids::now() + Duration::minutes(10), 10)
        .await
        .unwrap();
    assert_eq!(due, vec![later.clone()]);

    // The log pages in id order, and another tenant sees none of it.
    let first = store
        .deliveries(
            t.id,
            hook.id,
            PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(first.items, vec![delivered.clone()]);
    let cursor = first.next_cursor.expect("a second page");
    let second = store
        .deliveries(
            t.id,
            hook.id,
            PageRequest {
                limit: 1,
                after: Some(cursor.parse().unwrap()),
            },
        )
        .await
        .unwrap();
    assert_eq!((second.items, second.next_cursor), (vec![later], None));
    assert!(store
        .deliveries(new_id(), hook.id, PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());

    // Deleting the webhook deletes its log.
    store.delete_webhook(t.id, hook.id).await.unwrap();
    assert!(store
        .due_deliveries(ids::now() + Duration::hours(1), 10)
        .await
        .unwrap()
        .is_empty());
}

/// A batch larger than one multi-row statement (50 rows) is written whole, every column in its
/// place, and each agent's spend adds up.
async fn llm_usage_batches_are_written_whole(store: Arc<dyn Store>, _url: String) {
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let at = ids::now();
    let rows: Vec<LlmUsage> = (0..120u64)
        .map(|i| LlmUsage {
            id: new_id(),
            tenant_id: t.id,
            agent: if i % 3 == 0 { "alpha" } else { "beta" }.into(),
            model: "gpt-4o".into(),
            deployment: "openai-east".into(),
            endpoint: "chat".into(),
            prompt_tokens: i,
            completion_tokens: 2 * i,
            cost_micros: 1_000 + i,
            status: 200,
            latency_ms: 5,
            created_at: at,
        })
        .collect();
    store.insert_llm_usage(&rows).await.unwrap();
    let spend = |agent: &'static str| {
        rows.iter()
            .filter(|r| r.agent == agent)
            .map(|r| r.cost_micros)
            .sum::<u64>()
    };
    let since = at - Duration::minutes(1);
    for agent in ["alpha", "beta"] {
        let got = store.llm_spend(t.id, Some(agent), since).await.unwrap();
        assert_eq!(got, spend(agent), "{agent}");
    }
    let report = store
        .llm_usage(
            t.id,
            &UsageQuery {
                period: UsagePeriod::Day,
                by_agent: false,
                by_model: false,
                agent: None,
                since,
                until: at + Duration::minutes(1),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].requests, 120);
    assert_eq!(report[0].prompt_tokens, (0..120).sum::<u64>());
    assert_eq!(report[0].completion_tokens, 2 * (0..120).sum::<u64>());
}

/// An audit batch of `rows` entries from `first` on (no tree hashes: the store does not check
/// the tree, the audit writer does).
fn audit_batch(first: u64, rows: u64) -> Vec<sentinel_store::AuditRecord> {
    (first..first + rows)
        .map(|seq| sentinel_store::AuditRecord {
            seq,
            tenant_id: None,
            kind: "decision".into(),
            agent: Some("bot".into()),
            tool: Some("query_metrics".into()),
            outcome: Some("allow".into()),
            created_at: ids::now(),
            entry: format!("{{\"seq\":{seq},\"pad\":\"{}\"}}", "x".repeat(1000)),
            leaf_hash: [seq as u8; 32],
        })
        .collect()
}

/// A write abandoned part way (its future dropped: a cancelled request, a timeout) must not
/// leave its transaction open on a pooled connection: the next write would run inside it, or
/// fail to begin. Each abandoned write is followed by one that must commit and be readable
/// from another connection. Where the drop lands varies from run to run; the invariant holds
/// wherever it does.
async fn a_cancelled_audit_write_leaves_no_transaction_open(store: Arc<dyn Store>, url: String) {
    // On SQLite the audit journal keeps the transaction off the caller's path (an append that
    // began runs to its end): the SQL write path is the one without it.
    let store = if url.starts_with("sqlite") {
        drop(store);
        let mut off = sentinel_store::StoreOptions::default();
        off.audit_journal = false;
        sentinel_store::open_with(&url, off).await.unwrap()
    } else {
        store
    };
    let mut next = 0u64;
    let mut abandoned = 0;
    for i in 0..40u64 {
        let batch = audit_batch(next, 300);
        next += 300;
        let write = store.append_audit(&batch, &[], &[]);
        if tokio::time::timeout(std::time::Duration::from_micros(i * 50), write)
            .await
            .is_err()
        {
            abandoned += 1;
        }
        let batch = audit_batch(next, 1);
        next += 1;
        store
            .append_audit(&batch, &[], &[])
            .await
            .unwrap_or_else(|e| panic!("the write after abandoned write {i} failed: {e}"));
        let size = store.audit_size().await.unwrap();
        assert!(
            size >= (i + 1),
            "committed writes are visible: {size} after {i}"
        );
        let last = store.audit_entry(next - 1).await.unwrap();
        assert!(
            last.is_some(),
            "entry {} is visible from another connection",
            next - 1
        );
    }
    assert!(abandoned > 0, "some writes were abandoned part way");
}

/// What an audit batch writes is read back byte for byte, whatever its texts hold: quotes,
/// backslashes, escapes, non-ASCII, absent columns, a NUL (SQLite only: PostgreSQL's text
/// refuses it), and batches of different sizes.
async fn audit_rows_keep_every_character(store: Arc<dyn Store>, url: String) {
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let tricky = [
        r#"{"q":"say \"hi\"","path":"C:\\x","nl":"a\nb","u":"\u0007"}"#,
        "{\"snow\":\"\u{2603} caf\u{e9} \u{1F600}\"}",
        "",
    ];
    let record = |seq: u64| sentinel_store::AuditRecord {
        seq,
        tenant_id: seq.is_multiple_of(2).then_some(t.id),
        kind: "decision".into(),
        agent: match seq % 3 {
            0 => None,
            1 => Some("b\u{f6}t \"one\"".into()),
            _ => Some("nul\0inside".into()),
        },
        tool: (!seq.is_multiple_of(4)).then(|| format!("tool_{seq}")),
        outcome: Some("allow".into()),
        created_at: ids::now(),
        entry: format!("{}{seq}", tricky[seq as usize % tricky.len()]),
        leaf_hash: [seq as u8; 32],
    };
    let decision = |n: u64| DecisionRecord {
        decision_id: Uuid::now_v7(),
        tenant_id: t.id,
        agent: "bot".into(),
        tool: "query_metrics".into(),
        outcome: "allow".into(),
        revision: "sha256:abc".into(),
        input: serde_json::json!({"action": {"arguments": {"q": tricky[n as usize % 3], "n": n, "big": u64::MAX}}}),
        result: serde_json::json!({"outcome": "allow", "reasons": ["\u{2603}"]}),
        timestamp: ids::now(),
        duration_us: n,
    };
    let mut written = Vec::new();
    let mut decisions = Vec::new();
    let mut next = 0;
    let nul = url.starts_with("sqlite");
    for (rows, with_nul) in [(1u64, false), (150, false), (7, nul), (2, false)] {
        // Entries are numbered without gaps: what the filter keeps is numbered afresh.
        let batch: Vec<_> = (next..next + rows)
            .map(record)
            .filter(|r| with_nul || !r.agent.as_deref().unwrap_or("").contains('\0'))
            .enumerate()
            .map(|(i, mut r)| {
                r.seq = next + i as u64;
                r
            })
            .collect();
        let hashes: Vec<_> = batch
            .iter()
            .map(|r| (r.seq, [r.seq as u8 ^ 0xff; 32]))
            .collect();
        let records: Vec<_> = (0..rows.min(60)).map(|n| decision(next + n)).collect();
        store.append_audit(&batch, &hashes, &records).await.unwrap();
        next += batch.len() as u64;
        written.extend(batch);
        decisions.extend(records);
    }
    for expected in &written {
        let got = store.audit_entry(expected.seq).await.unwrap();
        assert_eq!(got.as_ref(), Some(expected), "entry {}", expected.seq);
    }
    let indexes: Vec<u64> = written.iter().map(|r| r.seq).collect();
    let hashes = store.audit_hashes(&indexes).await.unwrap();
    for (seq, hash) in indexes.iter().zip(hashes) {
        assert_eq!(hash, [*seq as u8 ^ 0xff; 32], "tree hash {seq}");
    }
    for expected in &decisions {
        let got = store.decision(expected.decision_id).await.unwrap();
        assert_eq!(
            got.as_ref(),
            Some(expected),
            "decision {}",
            expected.decision_id
        );
    }
}
