//! The approval workflow over HTTP: a held action, the operator's answer, the agent's long-poll,
//! the single-use grant (replayed and altered), N-of-M, expiry, cancellation by kill switch and
//! by the agent, separation of duties, and the record it all leaves in the audit log.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use common::{Acme, TestServer};
use serde_json::{json, Value};

const ROLLBACK: &str = "rollback_deployment";

fn action(tool: &str, args: Value) -> Value {
    json!({"kind": "tool_call", "target": {"tool": tool}, "arguments": args})
}

/// `/v1/check` with an optional grant header.
async fn check(a: &Acme, body: &Value, grant: Option<&str>) -> Value {
    let mut req =
        a.s.http
            .post(format!("{}/v1/check", a.s.base))
            .bearer_auth(&a.agent_key)
            .json(body);
    if let Some(g) = grant {
        req = req.header("Sentinel-Grant", g);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn answer(a: &Acme, key: &str, id: &str, granted: bool) -> common::Reply {
    a.s.post(
        &format!("/v1/approvals/{id}/decision"),
        key,
        json!({"granted": granted, "reason": "checked the change ticket"}),
    )
    .await
}

/// Pushes and activates a bundle that holds `deploy` with the given approval settings.
async fn hold_deploys(a: &Acme, settings: Value) {
    let bundle = json!({
        "modules": {"hold.rego": "package sentinel\n\napproval contains \"deploys need a human\" if input.action.target.tool == \"deploy\"\n"},
        "data": {"approvals": settings, "risk_matrix": {"deploy": "warning"}},
    });
    a.activate(bundle).await;
}

async fn lifecycle(a: Acme) {
    let body = action(ROLLBACK, json!({"service": "api", "to": "v41"}));
    let held = check(&a, &body, None).await;
    assert_eq!(held["outcome"], "approval_required");
    let id = held["approval_id"]
        .as_str()
        .expect("held with an approval id")
        .to_string();

    // Asking again waits on the same request.
    assert_eq!(check(&a, &body, None).await["approval_id"], json!(id));

    // The operator's queue shows it, with the action, reasons and risk.
    let queue =
        a.s.get("/v1/tenants/acme/approvals?status=pending", &a.operator_key)
            .await;
    let queue = queue.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["id"], json!(id));
    assert_eq!(queue[0]["action"]["arguments"]["to"], "v41");
    assert_eq!(queue[0]["risk"], "critical");
    assert_eq!(queue[0]["reasons"], held["reasons"]);
    assert_eq!(queue[0]["agent"], "sre-bot");

    // Pending: no grant yet.
    let pending = a.s.get(&format!("/v1/approvals/{id}"), &a.agent_key).await;
    assert_eq!(pending.ok(200)["status"], "pending");
    assert!(pending.body["grant"].is_null());

    // The agent long-polls; the operator approves meanwhile; the poll returns at once.
    let poll = {
        let (http, url, key) = (
            a.s.http.clone(),
            format!("{}/v1/approvals/{id}?wait=20s", a.s.base),
            a.agent_key.clone(),
        );
        tokio::spawn(async move {
            let started = Instant::now();
            let v: Value = http
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (v, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let approved = answer(&a, &a.operator_key, &id, true).await;
    assert_eq!(approved.ok(200)["status"], "approved");
    let (polled, waited) = poll.await.unwrap();
    assert_eq!(polled["status"], "approved", "{polled}");
    assert!(waited < Duration::from_secs(5), "long-poll took {waited:?}");
    let grant = polled["grant"]["token"]
        .as_str()
        .expect("the agent gets its grant")
        .to_string();

    // Operators never see the grant.
    let seen =
        a.s.get(&format!("/v1/approvals/{id}"), &a.operator_key)
            .await;
    assert!(seen.ok(200)["grant"].is_null());

    // An altered action with the grant is denied, and does not use the grant up.
    let altered = action(ROLLBACK, json!({"service": "api", "to": "v1"}));
    let d = check(&a, &altered, Some(&grant)).await;
    assert_eq!(d["outcome"], "deny");
    assert!(d["reasons"][0].as_str().unwrap().contains("differs"), "{d}");

    // The exact action with the grant is allowed, once.
    let allowed = check(&a, &body, Some(&grant)).await;
    assert_eq!(allowed["outcome"], "allow", "{allowed}");
    assert_eq!(allowed["approval_id"], json!(id));
    let replay = check(&a, &body, Some(&grant)).await;
    assert_eq!(replay["outcome"], "deny");
    assert!(
        replay["reasons"][0]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{replay}"
    );

    // A forged grant is refused.
    let forged = format!("{}x", &grant[..grant.len() - 1]);
    let d = check(&a, &body, Some(&forged)).await;
    assert_eq!(d["outcome"], "deny");
    assert_eq!(d["reasons"][0], "the grant is not valid");

    let used = a.s.get(&format!("/v1/approvals/{id}"), &a.agent_key).await;
    let used = used.ok(200);
    assert_eq!(used["grant_decision_id"], allowed["decision_id"]);
    assert!(
        used["grant"].is_null(),
        "a used grant is not handed out again"
    );

    // Every transition is in the audit log.
    let entries =
        a.s.get("/v1/audit/entries?kind=approval", &a.operator_key)
            .await;
    let events: Vec<String> = entries.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"]["details"]["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["requested", "approved", "grant_used"]);

    // The provenance manifest of the executed action names who approved it.
    let env =
        a.s.post(
            "/v1/provenance/sign",
            &a.agent_key,
            json!({"decision_id": allowed["decision_id"], "status": "succeeded"}),
        )
        .await;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env.ok(201)["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    let approvals = &statement["predicate"]["approvals"];
    assert_eq!(approvals.as_array().unwrap().len(), 1, "{statement}");
}

#[tokio::test]
async fn held_approved_long_polled_and_allowed_once_sqlite() {
    lifecycle(Acme::on(TestServer::sqlite().await).await).await;
}

#[tokio::test]
async fn held_approved_long_polled_and_allowed_once_postgres() {
    lifecycle(Acme::on(TestServer::postgres().await).await).await;
}

#[tokio::test]
async fn only_operators_of_the_tenant_answer_and_each_only_once() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let held = check(&a, &action(ROLLBACK, json!({})), None).await;
    let id = held["approval_id"].as_str().unwrap();

    // The requesting agent's key, an auditor, another tenant's operator: none may answer.
    let r = answer(&a, &a.agent_key, id, true).await;
    r.problem(403);
    let auditor = a.s.key("acme", "auditor", None).await;
    answer(&a, &auditor, id, true).await.problem(403);
    a.s.tenant("globex").await;
    let stranger = a.s.key("globex", "operator", None).await;
    answer(&a, &stranger, id, true).await.problem(404);
    a.s.get(&format!("/v1/approvals/{id}"), &stranger)
        .await
        .problem(404);
    a.s.get("/v1/tenants/acme/approvals", &stranger)
        .await
        .problem(404);

    // Bad input is named.
    let r =
        a.s.post(
            &format!("/v1/approvals/{id}/decision"),
            &a.operator_key,
            json!({"granted": true, "reason": " "}),
        )
        .await;
    assert_eq!(r.problem(422)["field"], "reason");
    let r =
        a.s.get(&format!("/v1/approvals/{id}?wait=10m"), &a.agent_key)
            .await;
    assert_eq!(r.problem(400)["field"], "wait");
    let r =
        a.s.get("/v1/tenants/acme/approvals?status=maybe", &a.operator_key)
            .await;
    assert_eq!(r.problem(400)["field"], "status");
    a.s.get("/v1/approvals/not-a-uuid", &a.operator_key)
        .await
        .problem(400);

    // The operator denies; the answer is final.
    let denied = answer(&a, &a.operator_key, id, false).await;
    assert_eq!(denied.ok(200)["status"], "denied");
    assert!(denied.body["resolution"]
        .as_str()
        .unwrap()
        .contains("checked the change ticket"));
    let again = answer(&a, &a.operator_key, id, true).await;
    assert_eq!(again.problem(409)["code"], "approval_closed");
    let view = a.s.get(&format!("/v1/approvals/{id}"), &a.agent_key).await;
    assert!(view.ok(200)["grant"].is_null());
}

#[tokio::test]
async fn several_approvers_each_answer_once() {
    let a = Acme::on(TestServer::sqlite().await).await;
    hold_deploys(
        &a,
        json!({"approvers": 1, "tools": {"deploy": {"approvers": 2}}}),
    )
    .await;
    let held = check(&a, &action("deploy", json!({"version": "1.2"})), None).await;
    assert_eq!(held["outcome"], "approval_required");
    let id = held["approval_id"].as_str().unwrap();

    let first = answer(&a, &a.operator_key, id, true).await;
    assert_eq!(first.ok(200)["status"], "pending", "one of two approvals");
    let twice = answer(&a, &a.operator_key, id, true).await;
    assert!(twice.problem(409)["detail"]
        .as_str()
        .unwrap()
        .contains("already answered"));
    let second_operator = a.s.key("acme", "operator", None).await;
    let done = answer(&a, &second_operator, id, true).await;
    assert_eq!(done.ok(200)["status"], "approved");
    assert_eq!(done.body["votes"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn unanswered_requests_expire_and_cannot_be_approved_after() {
    let a = Acme::on(TestServer::sqlite().await).await;
    hold_deploys(&a, json!({"ttl_seconds": 1})).await;
    let held = check(&a, &action("deploy", json!({})), None).await;
    let id = held["approval_id"].as_str().unwrap();
    let polled =
        a.s.get(&format!("/v1/approvals/{id}?wait=6s"), &a.agent_key)
            .await;
    assert_eq!(polled.ok(200)["status"], "expired", "{}", polled.body);
    assert_eq!(polled.body["resolution"], "expired unanswered");
    answer(&a, &a.operator_key, id, true).await.problem(409);
    // A new check after expiry opens a new request.
    let again = check(&a, &action("deploy", json!({})), None).await;
    assert_ne!(again["approval_id"], held["approval_id"]);
}

#[tokio::test]
async fn a_kill_switch_cancels_pending_requests_in_its_scope() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let held = check(&a, &action(ROLLBACK, json!({})), None).await;
    let id = held["approval_id"].as_str().unwrap();
    let kill =
        a.s.post(
            "/v1/tenants/acme/kill",
            &a.operator_key,
            json!({"scope": "agent", "target": "sre-bot", "reason": "runaway loop"}),
        )
        .await;
    kill.ok(201);
    let view =
        a.s.get(&format!("/v1/approvals/{id}"), &a.operator_key)
            .await;
    assert_eq!(view.ok(200)["status"], "cancelled");
    assert!(view.body["resolution"]
        .as_str()
        .unwrap()
        .contains("runaway loop"));
    answer(&a, &a.operator_key, id, true).await.problem(409);
}

/// An approved action and its grant, as the agent holds them.
async fn approved(a: &Acme, body: &Value) -> (String, String) {
    let id = check(a, body, None).await["approval_id"]
        .as_str()
        .unwrap()
        .to_string();
    answer(a, &a.operator_key, &id, true).await.ok(200);
    let view = a.s.get(&format!("/v1/approvals/{id}"), &a.agent_key).await;
    let grant = view.body["grant"]["token"].as_str().unwrap().to_string();
    (id, grant)
}

#[tokio::test]
async fn a_kill_switch_beats_a_valid_grant_and_revokes_it() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let body = action(ROLLBACK, json!({}));
    let (id, grant) = approved(&a, &body).await;
    let kill =
        a.s.post(
            "/v1/tenants/acme/kill",
            &a.operator_key,
            json!({"scope": "tool", "target": ROLLBACK, "reason": "incident freeze"}),
        )
        .await;
    let kill_id = kill.ok(201)["id"].as_str().unwrap().to_string();
    let d = check(&a, &body, Some(&grant)).await;
    assert_eq!(d["outcome"], "deny");
    assert!(d["reasons"][0]
        .as_str()
        .unwrap()
        .contains("incident freeze"));

    // Lifting the kill does not revive the grant.
    a.s.post(
        "/v1/tenants/acme/restore",
        &a.operator_key,
        json!({"kill_id": kill_id}),
    )
    .await
    .ok(200);
    let view =
        a.s.get(&format!("/v1/approvals/{id}"), &a.operator_key)
            .await;
    assert_eq!(view.ok(200)["status"], "cancelled");
    let d = check(&a, &body, Some(&grant)).await;
    assert_eq!(d["outcome"], "deny");
    assert!(
        d["reasons"][0].as_str().unwrap().contains("cancelled"),
        "{d}"
    );
}

#[tokio::test]
async fn an_operator_revokes_an_unused_grant() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let body = action(ROLLBACK, json!({"service": "api"}));
    let (id, grant) = approved(&a, &body).await;
    let revoked =
        a.s.post(
            &format!("/v1/approvals/{id}/cancel"),
            &a.operator_key,
            json!({"reason": "approved the wrong rollback"}),
        )
        .await;
    assert_eq!(revoked.ok(200)["status"], "cancelled");
    assert_eq!(check(&a, &body, Some(&grant)).await["outcome"], "deny");
}

#[tokio::test]
async fn operators_see_recipients_but_never_credentials() {
    let a = Acme::on(TestServer::sqlite().await).await;
    hold_deploys(&a, json!({})).await;
    let token = format!("ghp_{}", "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY2zA4");
    let args = json!({"notify": "alice@example.com", "token": token});
    let held = check(&a, &action("deploy", args), None).await;
    let id = held["approval_id"].as_str().expect("held for approval");
    let view =
        a.s.get(&format!("/v1/approvals/{id}"), &a.operator_key)
            .await;
    let args = &view.ok(200)["action"]["arguments"];
    assert_eq!(args["notify"], "alice@example.com");
    assert_ne!(args["token"], json!(token), "{args}");
    assert!(!view.body.to_string().contains(&token));
}

#[tokio::test]
async fn an_agent_withdraws_its_own_request_only() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let id = check(&a, &action(ROLLBACK, json!({})), None).await["approval_id"]
        .as_str()
        .unwrap()
        .to_string();
    a.s.post(
        "/v1/tenants/acme/agents",
        &a.s.admin_key,
        json!({"name": "other-bot"}),
    )
    .await
    .ok(201);
    let other = a.s.key("acme", "agent", Some("other-bot")).await;
    let reason = json!({"reason": "no longer needed"});
    a.s.post(
        &format!("/v1/approvals/{id}/cancel"),
        &other,
        reason.clone(),
    )
    .await
    .problem(404);
    let done =
        a.s.post(&format!("/v1/approvals/{id}/cancel"), &a.agent_key, reason)
            .await;
    assert_eq!(done.ok(200)["status"], "cancelled");
}

#[tokio::test]
async fn a_grant_header_that_is_not_text_is_a_bad_request() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let resp =
        a.s.http
            .post(format!("{}/v1/check", a.s.base))
            .bearer_auth(&a.agent_key)
            .header(
                "Sentinel-Grant",
                reqwest::header::HeaderValue::from_bytes(b"sgr_\xff").unwrap(),
            )
            .json(&action(ROLLBACK, json!({})))
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["field"], "sentinel-grant");
}
