//! The decision API end to end: outcomes under the tenant's policy, kill and restore, quotas,
//! policy lifecycle (validate, test, push, activate, roll back), simulation, shadow mode, and
//! fail-closed behaviour.

mod common;

use common::{shipped_bundle, Acme, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn each_outcome_with_its_reasons() {
    each_outcome(Acme::on(TestServer::sqlite().await).await).await;
}

/// The same decisions on regorus's interpreter (`policy_evaluator = "interpreter"`); the
/// default, `auto`, runs the shipped bundles on the bytecode VM.
#[tokio::test]
async fn each_outcome_with_its_reasons_on_the_interpreter() {
    let config = sentinel_server::Config {
        policy_evaluator: sentinel_policy::Evaluator::Interpreter,
        ..Default::default()
    };
    let (dir, url) = sentinel_testkit::sqlite();
    each_outcome(Acme::on(TestServer::start(url, Some(dir), config).await).await).await;
}

async fn each_outcome(a: Acme) {
    let allow = a.check("query_metrics", json!({"query": "up"})).await;
    assert_eq!(allow["outcome"], "allow");
    assert_eq!(allow["risk"], "safe");
    assert!(allow["policy"]["revision"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(allow["policy"]["bundle"], "acme");
    let held = a
        .check("rollback_deployment", json!({"service": "api"}))
        .await;
    assert_eq!(held["outcome"], "approval_required");
    assert_eq!(
        held["reasons"],
        json!(["rollback_deployment is CRITICAL and needs a human"])
    );
    let denied = a
        .check(
            "restart_kubernetes_pod",
            json!({"namespace": "kube-system"}),
        )
        .await;
    assert_eq!(denied["outcome"], "deny");
    assert_eq!(
        denied["reasons"],
        json!(["pods in kube-system are not restarted by agents"])
    );
    let unknown = a.check("drop_database", json!({})).await;
    assert_eq!(unknown["outcome"], "deny");
    assert_eq!(unknown["risk"], "critical");

    // The decision log has every one, in the OPA decision-log shape: recorded before the
    // answer (strict audit commits the record with the entry), so no waiting here.
    let log =
        a.s.get("/v1/tenants/acme/decisions?limit=10", &a.operator_key)
            .await;
    let log = log.ok(200).as_array().unwrap().clone();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0]["decision_id"], unknown["decision_id"]);
    assert_eq!(log[3]["input"]["action"]["target"]["tool"], "query_metrics");
    assert_eq!(log[3]["input"]["agent"]["name"], "sre-bot");
    assert!(log[3]["duration_us"].as_u64().is_some());

    // One decision by the id its caller got, with where its audit entry is.
    let id = allow["decision_id"].as_str().unwrap();
    let one =
        a.s.get(&format!("/v1/tenants/acme/decisions/{id}"), &a.operator_key)
            .await;
    let one = one.ok(200);
    assert_eq!(one["decision_id"], allow["decision_id"]);
    assert_eq!(one["outcome"], "allow");
    assert_eq!(one["result"]["audit"], allow["audit"], "{one}");
    assert_eq!(one["input"]["action"]["target"]["tool"], "query_metrics");
    let missing = uuid::Uuid::now_v7();
    let r =
        a.s.get(
            &format!("/v1/tenants/acme/decisions/{missing}"),
            &a.operator_key,
        )
        .await;
    assert_eq!(r.problem(404)["field"], "decision_id");
    let r =
        a.s.get("/v1/tenants/acme/decisions/not-a-uuid", &a.operator_key)
            .await;
    assert_eq!(r.problem(400)["field"], "decision_id");
    // Another tenant sees neither acme's decisions nor, through its own path, this one.
    a.s.tenant("globex").await;
    let globex = a.s.key("globex", "operator", None).await;
    a.s.get(&format!("/v1/tenants/globex/decisions/{id}"), &globex)
        .await
        .problem(404);
    a.s.get(&format!("/v1/tenants/acme/decisions/{id}"), &globex)
        .await
        .problem(404);
}

#[tokio::test]
async fn a_registry_risk_reaches_policy_and_unregistered_tools_follow_the_bundle() {
    let a = Acme::on(TestServer::sqlite().await).await;
    a.s.post(
        "/v1/tenants/acme/tools",
        &a.s.admin_key,
        json!({"name": "page_oncall", "kind": "http", "risk": "safe"}),
    )
    .await
    .ok(201);
    assert_eq!(
        a.check("page_oncall", json!({})).await["outcome"],
        "allow",
        "registered tools are known"
    );
    a.s.call(
        Method::PATCH,
        "/v1/tenants/acme/tools/page_oncall",
        &a.s.admin_key,
        Some(json!({"is_active": false})),
    )
    .await
    .ok(200);
    let d = a.check("page_oncall", json!({})).await;
    assert_eq!(d["outcome"], "deny");
    assert_eq!(
        d["reasons"][0],
        "tool page_oncall is deactivated in the registry"
    );
}

#[tokio::test]
async fn kill_and_restore_each_scope() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let s = &a.s;
    for (scope, target) in [
        ("agent", Some("sre-bot")),
        ("tool", Some("query_metrics")),
        ("tenant", None),
    ] {
        let mut body = json!({"scope": scope, "reason": "incident 42"});
        if let Some(t) = target {
            body["target"] = json!(t);
        }
        let kill = s.post("/v1/tenants/acme/kill", &a.operator_key, body).await;
        let kill_id = kill.ok(201)["id"].as_str().unwrap().to_string();
        let d = a.check("query_metrics", json!({})).await;
        assert_eq!(d["outcome"], "deny", "{scope}");
        assert!(
            d["reasons"][0].as_str().unwrap().contains("incident 42"),
            "{d}"
        );
        let kills = s.get("/v1/tenants/acme/kills", &a.operator_key).await;
        assert_eq!(kills.ok(200).as_array().unwrap().len(), 1);
        if scope == "agent" {
            assert_eq!(
                s.get("/v1/tenants/acme/agents/sre-bot", &a.operator_key)
                    .await
                    .ok(200)["status"],
                "killed"
            );
        }
        s.post(
            "/v1/tenants/acme/restore",
            &a.operator_key,
            json!({"kill_id": kill_id}),
        )
        .await
        .ok(200);
        assert_eq!(
            a.check("query_metrics", json!({})).await["outcome"],
            "allow",
            "{scope} restored"
        );
        s.post(
            "/v1/tenants/acme/restore",
            &a.operator_key,
            json!({"kill_id": kill_id}),
        )
        .await
        .problem(404);
    }
    assert_eq!(
        s.get("/v1/tenants/acme/agents/sre-bot", &a.operator_key)
            .await
            .ok(200)["status"],
        "active"
    );
}

#[tokio::test]
async fn session_kills_stop_only_that_session() {
    let a = Acme::on(TestServer::sqlite().await).await;
    a.s.post(
        "/v1/tenants/acme/kill",
        &a.operator_key,
        json!({"scope": "session", "target": "sess-1", "reason": "looping"}),
    )
    .await
    .ok(201);
    let in_session = |sess: &str| json!({"kind": "tool_call", "session": sess, "target": {"tool": "query_metrics"}});
    let d =
        a.s.post("/v1/check", &a.agent_key, in_session("sess-1"))
            .await;
    assert_eq!(d.ok(200)["outcome"], "deny");
    let d =
        a.s.post("/v1/check", &a.agent_key, in_session("sess-2"))
            .await;
    assert_eq!(d.ok(200)["outcome"], "allow");
}

#[tokio::test]
async fn kills_survive_a_restart() {
    let (s, url) = TestServer::postgres_with_url(Default::default()).await;
    let a = Acme::on(s).await;
    a.s.post(
        "/v1/tenants/acme/kill",
        &a.operator_key,
        json!({"scope": "tool", "target": "query_metrics", "reason": "r"}),
    )
    .await
    .ok(201);
    // A second node on the same database: the kill and the active policy are loaded at start.
    let node2 = TestServer::start(url, None, Default::default()).await;
    let d = node2
        .post(
            "/v1/check",
            &a.agent_key,
            json!({"kind": "tool_call", "target": {"tool": "query_metrics"}}),
        )
        .await;
    assert_eq!(d.ok(200)["outcome"], "deny");
    let d = node2
        .post(
            "/v1/check",
            &a.agent_key,
            json!({"kind": "tool_call", "target": {"tool": "fetch_recent_logs"}}),
        )
        .await;
    assert_eq!(d.ok(200)["outcome"], "allow", "the policy was loaded too");
}

#[tokio::test]
async fn quotas_deny_with_the_time_until_retry() {
    let s = TestServer::sqlite().await;
    let a = Acme::on(s).await;
    let mut bundle = shipped_bundle("sre");
    bundle["data"]["quotas"] =
        json!({"tools": {"query_metrics": {"limit": 2, "window_seconds": 3600}}});
    a.activate(bundle).await;
    let first = a.check("query_metrics", json!({})).await;
    assert_eq!(first["outcome"], "allow");
    assert_eq!(first["quota"]["remaining"], 1);
    assert_eq!(
        a.check("query_metrics", json!({})).await["outcome"],
        "allow"
    );
    let third = a.check("query_metrics", json!({})).await;
    assert_eq!(third["outcome"], "deny");
    assert!(
        third["reasons"][0]
            .as_str()
            .unwrap()
            .contains("quota tool:query_metrics exhausted"),
        "{third}"
    );
    assert!(third["quota"]["retry_after_seconds"].as_u64().unwrap() > 60);
    assert_eq!(
        a.check("fetch_recent_logs", json!({})).await["outcome"],
        "allow",
        "other tools unaffected"
    );
    // Bad quota data is refused at push.
    let mut bad = shipped_bundle("sre");
    bad["data"]["quotas"] = json!({"tools": {"x": {"limit": "lots"}}});
    a.s.post("/v1/tenants/acme/policies", &a.s.admin_key, bad)
        .await
        .problem(422);
}

#[tokio::test]
async fn policy_lifecycle_validate_test_push_activate_rollback() {
    let s = TestServer::sqlite().await;
    s.tenant("acme").await;
    s.post(
        "/v1/tenants/acme/agents",
        &s.admin_key,
        json!({"name": "sre-bot"}),
    )
    .await
    .ok(201);
    let key = s.key("acme", "agent", Some("sre-bot")).await;
    let check = || {
        s.post(
            "/v1/check",
            &key,
            json!({"kind": "tool_call", "target": {"tool": "query_metrics"}}),
        )
    };

    // No active policy: everything is denied.
    let d = check().await;
    assert_eq!(d.ok(200)["outcome"], "deny");
    assert!(d.body["reasons"][0]
        .as_str()
        .unwrap()
        .contains("no policy is active"));

    let broken = json!({"modules": {"bad.rego": "package sentinel\n\ndeny contains msg if {\n  msg := \n}\n"}});
    let v = s
        .post(
            "/v1/tenants/acme/policies/validate",
            &s.admin_key,
            broken.clone(),
        )
        .await;
    let v = v.ok(200);
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"][0]["file"], "bad.rego");
    assert!(v["errors"][0]["line"].as_u64().unwrap() >= 4);
    let r = s
        .post("/v1/tenants/acme/policies", &s.admin_key, broken)
        .await;
    assert_eq!(r.problem(422)["field"], "modules.bad.rego");

    // Validation says which evaluator a bundle gets: the VM when no rule can produce
    // conflicting values, else the interpreter and the rule that could.
    let v = s
        .post(
            "/v1/tenants/acme/policies/validate",
            &s.admin_key,
            shipped_bundle("sre"),
        )
        .await;
    // Its rule about `restart_kubernetes_pod` runs only for that tool (the rule index).
    assert_eq!(
        v.ok(200)["evaluator"],
        json!({"engine": "vm", "rules_indexed": 1})
    );
    let conflicting = json!({"modules": {"p.rego": "package sentinel\n\nlabel := y if { some y in input.action.arguments.list }\n\ndeny contains label if input.action.arguments.x\n"}});
    let v = s
        .post(
            "/v1/tenants/acme/policies/validate",
            &s.admin_key,
            conflicting,
        )
        .await;
    let v = v.ok(200);
    assert_eq!(v["evaluator"]["engine"], "interpreter");
    assert!(
        v["evaluator"]["reason"]
            .as_str()
            .unwrap()
            .contains("data.sentinel.label (p.rego:3)"),
        "{v}"
    );

    let tests = s
        .post(
            "/v1/tenants/acme/policies/test",
            &s.admin_key,
            shipped_bundle("sre"),
        )
        .await;
    let tests = tests.ok(200);
    assert_eq!(tests["failed"], 0);
    assert_eq!(tests["errored"], 0);
    assert!(tests["passed"].as_u64().unwrap() >= 6);

    let sre = s
        .post(
            "/v1/tenants/acme/policies",
            &s.admin_key,
            shipped_bundle("sre"),
        )
        .await;
    let sre_rev = sre.ok(201)["revision"].as_str().unwrap().to_string();
    assert_eq!(
        check().await.body["outcome"],
        "deny",
        "pushing does not activate"
    );
    s.post(
        &format!("/v1/tenants/acme/policies/{sre_rev}/activate"),
        &s.admin_key,
        json!({}),
    )
    .await
    .ok(200);
    assert_eq!(check().await.body["outcome"], "allow");

    let strict = json!({"modules": {"strict.rego": "package sentinel\ndeny contains \"maintenance window\" if true\n"}});
    let strict = s
        .post(
            "/v1/tenants/acme/policies?activate=true",
            &s.admin_key,
            strict,
        )
        .await;
    strict.ok(201);
    assert_eq!(check().await.body["reasons"], json!(["maintenance window"]));
    let back = s
        .post(
            "/v1/tenants/acme/policies/rollback",
            &s.admin_key,
            json!({}),
        )
        .await;
    assert_eq!(back.ok(200)["revision"], sre_rev.as_str());
    assert_eq!(check().await.body["outcome"], "allow");
    let overview = s.get("/v1/tenants/acme/policies", &s.admin_key).await;
    assert_eq!(overview.ok(200)["active"], sre_rev.as_str());
    assert_eq!(overview.body["activations"].as_array().unwrap().len(), 3);
    let stored = s
        .get(
            &format!("/v1/tenants/acme/policies/{sre_rev}"),
            &s.admin_key,
        )
        .await;
    assert!(stored.ok(200)["bundle"]["modules"]["sre.rego"].is_string());
}

#[tokio::test]
async fn simulate_a_candidate_against_history() {
    let a = Acme::on(TestServer::sqlite().await).await;
    for (tool, ns) in [
        ("restart_kubernetes_pod", "payments"),
        ("restart_kubernetes_pod", "web"),
        ("query_metrics", ""),
    ] {
        a.check(tool, json!({"namespace": ns})).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut candidate = shipped_bundle("sre");
    candidate["modules"]["freeze.rego"] = json!(
        "package sentinel\n\ndeny contains msg if {\n\tinput.action.target.tool == \"restart_kubernetes_pod\"\n\tmsg := \"change freeze\"\n}\n\ndeny contains msg if {\n\tinput.action.target.tool == \"never_called\"\n\tmsg := \"unused\"\n}\n"
    );
    let sim =
        a.s.post(
            "/v1/tenants/acme/policies/simulate",
            &a.operator_key,
            json!({"bundle": candidate, "last": 100}),
        )
        .await;
    let sim = sim.ok(200);
    assert_eq!(sim["evaluated"], 3);
    assert_eq!(sim["before"], json!({"allow": 3}));
    assert_eq!(sim["after"], json!({"allow": 1, "deny": 2}));
    assert_eq!(sim["changed"].as_array().unwrap().len(), 2);
    assert_eq!(sim["changed"][0]["reasons_after"], json!(["change freeze"]));
    let never: Vec<&Value> = sim["rules_never_fired"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert!(
        never
            .iter()
            .any(|r| r["file"] == "freeze.rego" && r["line"] == 8),
        "{never:?}"
    );
    assert!(
        !never
            .iter()
            .any(|r| r["file"] == "freeze.rego" && r["line"] == 3),
        "the freeze rule fired: {never:?}"
    );
    a.s.post(
        "/v1/tenants/acme/policies/simulate",
        &a.operator_key,
        json!({"last": 5}),
    )
    .await
    .problem(422);
}

#[tokio::test]
async fn shadow_mode_records_without_enforcing() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let strict = json!({"modules": {"strict.rego": "package sentinel\ndeny contains \"would deny\" if true\n"}});
    let rev =
        a.s.post("/v1/tenants/acme/policies", &a.s.admin_key, strict)
            .await;
    let rev = rev.ok(201)["revision"].as_str().unwrap().to_string();
    a.s.call(
        Method::PUT,
        "/v1/tenants/acme/policies/shadow",
        &a.operator_key,
        Some(json!({"revision": rev})),
    )
    .await
    .ok(204);
    assert_eq!(
        a.check("query_metrics", json!({})).await["outcome"],
        "allow",
        "shadow is not enforced"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log =
        a.s.get("/v1/tenants/acme/decisions?limit=1", &a.operator_key)
            .await;
    let shadow = &log.ok(200)[0]["result"]["shadow"];
    assert_eq!(shadow["outcome"], "deny");
    assert_eq!(shadow["revision"], rev.as_str());
    a.s.call(
        Method::DELETE,
        "/v1/tenants/acme/policies/shadow",
        &a.operator_key,
        None,
    )
    .await
    .ok(204);
    assert!(a
        .s
        .get("/v1/tenants/acme/policies", &a.operator_key)
        .await
        .ok(200)["shadow"]
        .is_null());
}

#[tokio::test]
async fn runtime_errors_and_timeouts_deny_with_a_reason() {
    let config = sentinel_server::Config {
        policy_timeout_ms: 20,
        ..Default::default()
    };
    let (dir, url) = sentinel_testkit::sqlite();
    let a = Acme::on(TestServer::start(url, Some(dir), config).await).await;
    let failing = json!({"modules": {"f.rego": "package sentinel\n\nlabel := \"a\" if input.action.arguments.x\nlabel := \"b\" if input.action.arguments.x\n\ndeny contains label if input.action.arguments.x\n\ndeny contains \"slow\" if {\n\tinput.action.arguments.slow\n\tcount([1 | some x in numbers.range(1, 5000); some y in numbers.range(1, 5000); x != y]) > 0\n}\n"}});
    a.activate(failing).await;
    let d = a.check("t", json!({"x": true})).await;
    assert_eq!(d["outcome"], "deny");
    assert!(
        d["reasons"][0]
            .as_str()
            .unwrap()
            .contains("policy could not decide"),
        "{d}"
    );
    let started = std::time::Instant::now();
    let d = a.check("t", json!({"slow": true})).await;
    assert_eq!(d["outcome"], "deny");
    assert!(
        d["reasons"][0].as_str().unwrap().contains("time limit"),
        "{d}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// The default evaluator runs this bundle on the bytecode VM; an argument of the wrong type must
/// still deny (as the interpreter does), never slip past the rule that could not be evaluated.
#[tokio::test]
async fn a_wrongly_typed_argument_cannot_slip_past_a_deny_rule() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let rules = json!({"modules": {"limits.rego": "package sentinel\n\ndeny contains \"too many replicas\" if input.action.arguments.replicas + 0 > 10\n\ndeny contains \"no dropping\" if contains(lower(input.action.arguments.query), \"drop \")\n"}});
    let validated =
        a.s.post(
            "/v1/tenants/acme/policies/validate",
            &a.s.admin_key,
            rules.clone(),
        )
        .await;
    let validated = validated.ok(200);
    assert_eq!(validated["evaluator"]["engine"], "vm", "{validated}");
    a.activate(rules).await;
    for (args, expected) in [
        (json!({"replicas": 20}), "too many replicas"),
        (json!({"replicas": "20"}), "policy could not decide"),
        (json!({"query": "DROP TABLE users"}), "no dropping"),
        (
            json!({"query": ["DROP TABLE users"]}),
            "policy could not decide",
        ),
    ] {
        let d = a.check("t", args.clone()).await;
        assert_eq!(d["outcome"], "deny", "{args}: {d}");
        assert!(
            d["reasons"][0].as_str().unwrap().contains(expected),
            "{args}: {d}"
        );
    }
}

#[tokio::test]
async fn an_unavailable_store_denies_with_a_reason() {
    let (s, url) = TestServer::postgres_with_url(Default::default()).await;
    let a = Acme::on(s).await;
    a.s.post(
        "/v1/tenants/acme/tools",
        &a.s.admin_key,
        json!({"name": "page_oncall", "kind": "http", "risk": "safe"}),
    )
    .await
    .ok(201);
    sentinel_testkit::postgres().drop_database(&url);
    // Past the key and registry caches' lifetimes, nothing can be looked up any more.
    tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
    let r =
        a.s.post(
            "/v1/check",
            &a.agent_key,
            json!({"kind": "tool_call", "target": {"tool": "page_oncall"}}),
        )
        .await;
    r.problem(503);
    let ready = a.s.raw(Method::GET, "/ready", None, None).await;
    ready.problem(503);
}

#[tokio::test]
async fn identity_comes_from_the_key() {
    let a = Acme::on(TestServer::sqlite().await).await;
    let r = a.s.post("/v1/check", &a.agent_key, json!({"kind": "tool_call", "agent": "someone-else", "target": {"tool": "query_metrics"}})).await;
    assert_eq!(r.ok(200)["outcome"], "deny");
    assert!(r.body["reasons"][0]
        .as_str()
        .unwrap()
        .contains("someone-else"));
    let r =
        a.s.post(
            "/v1/check",
            &a.agent_key,
            json!({"kind": "tool_call", "tenant": "globex", "target": {"tool": "query_metrics"}}),
        )
        .await;
    assert_eq!(r.ok(200)["outcome"], "deny");
    a.s.post(
        "/v1/check",
        &a.operator_key,
        json!({"kind": "tool_call", "target": {"tool": "query_metrics"}}),
    )
    .await
    .problem(403);
    let r =
        a.s.post(
            "/v1/check",
            &a.agent_key,
            json!({"kind": "telepathy", "target": {"tool": "x"}}),
        )
        .await;
    assert_eq!(r.problem(400)["field"], "kind");
    let r =
        a.s.post(
            "/v1/check",
            &a.agent_key,
            json!({"kind": "tool_call", "target": {}}),
        )
        .await;
    r.problem(400);
    let r =
        a.s.post(
            "/v1/check",
            &a.agent_key,
            json!({"kind": "tool_call", "target": {"tool": "x"}, "arguments": [1]}),
        )
        .await;
    assert_eq!(r.problem(422)["field"], "arguments");
}
