//! The MCP gateway through real transports: an rmcp client over streamable HTTP to Sentinel,
//! and the rmcp test fixture behind it over stdio and over streamable HTTP.

mod common;

use std::time::Duration;

use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn tools_are_namespaced_filtered_allowed_and_denied() {
    let env = Env::start(0).await;
    env.add_server("fixture", stdio_fixture(json!({}))).await;
    // A tool policy can never allow is not offered.
    env.call(
        Method::POST,
        "/v1/tenants/acme/kill",
        &env.operator_key,
        Some(json!({"scope": "tool", "target": "fixture__slow", "reason": "broken"})),
    )
    .await;
    let client = env.client(&env.agent_key).await;
    assert_eq!(
        tool_names(&client).await,
        [
            "fixture__echo",
            "fixture__fetch_page",
            "fixture__leak",
            "fixture__send_email"
        ]
    );

    let ok = call(&client, "fixture__echo", json!({"text": "hello"})).await;
    assert!(!is_error(&ok), "{ok:?}");
    assert_eq!(text(&ok), "hello");

    let denied = call(
        &client,
        "fixture__send_email",
        json!({"to": "bob@competitor.example", "body": "hi"}),
    )
    .await;
    assert!(is_error(&denied));
    assert!(
        text(&denied).contains("mail to competitors is not allowed"),
        "{}",
        text(&denied)
    );

    let unknown = call(&client, "fixture__nope", json!({})).await;
    assert!(is_error(&unknown) && text(&unknown).contains("unknown tool"));

    // Discovered tools entered the inventory; every call is in the decision log.
    let tools = env
        .call(
            Method::GET,
            "/v1/tenants/acme/tools?limit=100",
            &env.operator_key,
            None,
        )
        .await;
    let names: Vec<&str> = tools["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"fixture__send_email"), "{names:?}");
    let server = env
        .call(
            Method::GET,
            "/v1/tenants/acme/mcp/servers/fixture",
            &env.operator_key,
            None,
        )
        .await;
    assert_eq!(server["state"], "up", "{server}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn held_calls_wait_for_an_operator_or_name_their_approval() {
    let env = Env::start(5).await;
    env.add_server("fixture", stdio_fixture(json!({}))).await;
    let client = env.client(&env.agent_key).await;

    // Approved while the call waits: the call goes through.
    let approve = async {
        let pending = env.pending().await;
        env.answer(pending[0]["id"].as_str().unwrap(), true).await;
    };
    let (result, ()) = tokio::join!(
        call(
            &client,
            "fixture__send_email",
            json!({"to": "ceo@acme.example", "body": "q3"})
        ),
        approve
    );
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(text(&result), "sent (2 bytes)");

    // Not answered in time: an isError result names the approval; calling again once it is
    // approved runs the call.
    let env = Env::start(1).await;
    env.add_server("fixture", stdio_fixture(json!({}))).await;
    let client = env.client(&env.agent_key).await;
    let held = call(
        &client,
        "fixture__send_email",
        json!({"to": "ceo@acme.example", "body": "q4"}),
    )
    .await;
    assert!(is_error(&held));
    let id = env.pending().await[0]["id"].as_str().unwrap().to_string();
    assert!(
        text(&held).contains(&format!("holding this call for approval {id}")),
        "{}",
        text(&held)
    );
    env.answer(&id, true).await;
    let retried = call(
        &client,
        "fixture__send_email",
        json!({"to": "ceo@acme.example", "body": "q4"}),
    )
    .await;
    assert_eq!(text(&retried), "sent (2 bytes)");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn results_are_redacted_and_injections_taint_the_session() {
    // This time the fixture is a streamable-HTTP upstream.
    let (_child, addr) = http_fixture().await;
    let env = Env::start(0).await;
    env.add_server(
        "fixture",
        json!({"type": "http", "url": format!("http://{addr}/mcp")}),
    )
    .await;
    let client = env.client(&env.agent_key).await;

    let leaked = call(&client, "fixture__leak", json!({})).await;
    let t = text(&leaked);
    assert!(
        !t.contains("ghp_u8jz") && !t.contains("jane.doe@example.com"),
        "{t}"
    );
    assert!(t.contains("[REDACTED:github-pat]"), "{t}");

    // A clean session sends mail freely…
    let sent = call(
        &client,
        "fixture__send_email",
        json!({"to": "bob@example.com", "body": "hi"}),
    )
    .await;
    assert!(!is_error(&sent), "{}", text(&sent));
    // …until it reads a page with an injection in it: then sinks wait for a human.
    let page = call(
        &client,
        "fixture__fetch_page",
        json!({"url": "https://example.com"}),
    )
    .await;
    assert!(!is_error(&page));
    let held = call(
        &client,
        "fixture__send_email",
        json!({"to": "bob@example.com", "body": "hi"}),
    )
    .await;
    assert!(is_error(&held));
    assert!(
        text(&held).contains("this session has read untrusted content (tool:fixture__fetch_page)"),
        "{}",
        text(&held)
    );
    // Reading stays allowed, and a new session starts clean.
    assert!(!is_error(
        &call(&client, "fixture__echo", json!({"text": "x"})).await
    ));
    let fresh = env.client(&env.agent_key).await;
    let sent = call(
        &fresh,
        "fixture__send_email",
        json!({"to": "bob@example.com", "body": "hi"}),
    )
    .await;
    assert!(!is_error(&sent), "{}", text(&sent));
    client.cancel().await.unwrap();
    fresh.cancel().await.unwrap();
}

#[tokio::test]
async fn a_changed_tool_definition_blocks_the_tool_until_approved() {
    let env = Env::start(0).await;
    env.add_server("fixture", stdio_fixture(json!({}))).await;
    let client = env.client(&env.agent_key).await;
    assert!(tool_names(&client)
        .await
        .contains(&"fixture__echo".to_string()));

    // The upstream rewrites echo's description (restarted with a new environment).
    env.call(
        Method::PATCH,
        "/v1/tenants/acme/mcp/servers/fixture",
        &env.admin_key,
        Some(json!({"transport": stdio_fixture(json!({"FIXTURE_VARIANT": "evil"}))})),
    )
    .await;
    let mut blocked = false;
    for _ in 0..100 {
        if !tool_names(&client)
            .await
            .contains(&"fixture__echo".to_string())
        {
            blocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(blocked, "the changed tool is still offered");
    let refused = call(&client, "fixture__echo", json!({"text": "x"})).await;
    assert!(
        is_error(&refused) && text(&refused).contains("rug pull"),
        "{}",
        text(&refused)
    );
    let pins = env
        .call(
            Method::GET,
            "/v1/tenants/acme/mcp/servers/fixture/tools",
            &env.operator_key,
            None,
        )
        .await;
    let echo = pins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["tool"] == "echo")
        .unwrap()
        .clone();
    assert_eq!(echo["status"], "changed");
    assert!(echo["offered_definition"]["description"]
        .as_str()
        .unwrap()
        .contains("id_rsa"));

    // An operator cannot approve what an agent key asks; an admin approves it.
    let (status, _) = env
        .try_call(
            Method::POST,
            "/v1/tenants/acme/mcp/servers/fixture/tools/echo/approve-definition",
            &env.agent_key,
            None,
        )
        .await;
    assert_eq!(status, 403);
    let approved = env
        .call(
            Method::POST,
            "/v1/tenants/acme/mcp/servers/fixture/tools/echo/approve-definition",
            &env.admin_key,
            None,
        )
        .await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["hash"], echo["offered_hash"]);
    let mut back = false;
    for _ in 0..100 {
        if !is_error(&call(&client, "fixture__echo", json!({"text": "x"})).await) {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the approved tool is still blocked");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_kill_switch_fails_in_flight_calls_and_closes_the_session() {
    let env = Env::start(0).await;
    env.add_server("fixture", stdio_fixture(json!({}))).await;
    let client = env.client(&env.agent_key).await;
    assert!(!is_error(
        &call(&client, "fixture__echo", json!({"text": "x"})).await
    ));

    let started = std::time::Instant::now();
    let kill = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        env.call(
            Method::POST,
            "/v1/tenants/acme/kill",
            &env.operator_key,
            Some(json!({"scope": "agent", "target": "bot", "reason": "runaway"})),
        )
        .await;
    };
    let (slow, _) = tokio::join!(call(&client, "fixture__slow", json!({"ms": 20000})), kill);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        is_error(&slow) && text(&slow).contains("kill switch"),
        "{}",
        text(&slow)
    );

    // The session is closed. The client may open a new one, which offers nothing while the
    // kill stands.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(client.list_all_tools().await.map_or(true, |t| t.is_empty()));
    assert_eq!(
        env.call(
            Method::GET,
            "/v1/tenants/acme/mcp/servers/fixture",
            &env.operator_key,
            None
        )
        .await["state"],
        "up",
        "the upstream itself keeps running"
    );
    // A new session is denied by the kill too.
    let again = env.client(&env.agent_key).await;
    let denied = call(&again, "fixture__echo", json!({"text": "x"})).await;
    assert!(
        is_error(&denied) && text(&denied).contains("kill switch"),
        "{}",
        text(&denied)
    );
}

#[tokio::test]
async fn the_gateway_needs_an_agent_key() {
    let env = Env::start(0).await;
    let resp = env
        .http
        .post(format!("{}/mcp", env.base))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // An operator key opens no session that can list tools.
    let operator = env.client(&env.operator_key).await;
    assert!(operator.list_all_tools().await.is_err());
}

#[tokio::test]
async fn the_stdio_bridge_relays_a_governed_session() {
    let env = Env::start(0).await;
    env.add_server("fixture", stdio_fixture(json!({}))).await;
    // The bridge serves MCP on a byte stream (stdin/stdout in `sentinel mcp stdio`); an rmcp
    // client speaks to it over a pipe.
    let (bridge_side, client_side) = tokio::io::duplex(64 * 1024);
    let url = format!("{}/mcp", env.base);
    let key = env.agent_key.clone();
    tokio::spawn(async move {
        let (r, w) = tokio::io::split(bridge_side);
        sentinel_mcp::bridge::run(&url, &key, (r, w)).await
    });
    let (r, w) = tokio::io::split(client_side);
    let client = rmcp::ServiceExt::serve(rmcp::model::ClientConfig::default(), (r, w))
        .await
        .unwrap();
    assert!(tool_names(&client)
        .await
        .contains(&"fixture__echo".to_string()));
    assert_eq!(
        text(&call(&client, "fixture__echo", json!({"text": "via stdio"})).await),
        "via stdio"
    );
    let denied = call(
        &client,
        "fixture__send_email",
        json!({"to": "x@competitor.example", "body": "b"}),
    )
    .await;
    assert!(is_error(&denied) && text(&denied).contains("mail to competitors is not allowed"));
}

#[tokio::test]
async fn the_baseline_bundle_tests_pass_including_sink_holding() {
    // What `sentinel policy test policies/baseline` runs, through the server's test endpoint.
    let env = Env::start(0).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/baseline");
    let mut modules = serde_json::Map::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        modules.insert(name, json!(std::fs::read_to_string(entry.path()).unwrap()));
    }
    assert!(modules.contains_key("session_test.rego"));
    let v = env
        .call(
            Method::POST,
            "/v1/tenants/acme/policies/test",
            &env.admin_key,
            Some(json!({"modules": modules, "data": {}})),
        )
        .await;
    assert_eq!(v["failed"], 0, "{v}");
    assert_eq!(v["errored"], 0, "{v}");
    assert!(v["passed"].as_u64().unwrap() >= 12, "{v}");
}
