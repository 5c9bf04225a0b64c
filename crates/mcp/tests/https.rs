//! HTTPS upstreams: the rmcp test fixture behind TLS on loopback, its certificate issued by a
//! private CA made here. Registered through the API with the CA, its tools work through
//! Sentinel's `/mcp`; registered without it, the upstream is reported down as untrusted. Also
//! the HTTP client's redirect policy (credentials never follow a redirect to another host).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use reqwest::Method;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, PingRequest, RequestId};
use rmcp::transport::streamable_http_client::{StreamableHttpClient, StreamableHttpError};
use sentinel_mcp::http_client::{HttpClient, HttpOptions};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

/// A private CA and a certificate it issued for 127.0.0.1.
struct Pki {
    ca_pem: String,
    server: rustls::ServerConfig,
}

fn new_pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Sentinel test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();

    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf_cert.der().clone()], key)
    .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server,
    }
}

/// TLS in front of `backend`, as a TLS-terminating proxy would put it; what clients send
/// (decrypted) is kept in `seen`, so the test can check the headers that arrived.
async fn tls_front(
    config: rustls::ServerConfig,
    backend: String,
    seen: Arc<Mutex<Vec<u8>>>,
) -> String {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, backend, seen) = (acceptor.clone(), backend.clone(), seen.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate aborts the handshake here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let upstream = tokio::net::TcpStream::connect(backend).await.unwrap();
                let (mut from_client, mut to_client) = tokio::io::split(tls);
                let (mut from_upstream, mut to_upstream) = upstream.into_split();
                let up = async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = from_client.read(&mut buf).await {
                        if n == 0 || to_upstream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        seen.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = to_upstream.shutdown().await;
                };
                let down = async move {
                    let _ = tokio::io::copy(&mut from_upstream, &mut to_client).await;
                    let _ = to_client.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    addr
}

/// Waits until upstream `name` is `down`; returns its view.
async fn down(env: &Env, name: &str) -> Value {
    let path = format!("/v1/tenants/acme/mcp/servers/{name}");
    for _ in 0..200 {
        let v = env.call(Method::GET, &path, &env.admin_key, None).await;
        if v["state"] == "down" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("upstream {name} was never reported down");
}

#[tokio::test]
async fn an_https_upstream_with_a_private_ca_works_and_without_it_is_untrusted() {
    let pki = new_pki();
    let (_fixture, plain) = http_fixture().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let front = tls_front(pki.server.clone(), plain, seen.clone()).await;
    let url = format!("https://{front}/mcp");

    let env = Env::start(0).await;
    env.call(
        Method::PUT,
        "/v1/tenants/acme/secrets/fixture_token",
        &env.admin_key,
        Some(json!({"value": "tls-secret-123"})),
    )
    .await;

    // Registered with its CA: up, and its tools answer through the gateway.
    env.add_server(
        "secure",
        json!({"type": "http", "url": url, "ca_cert_pem": pki.ca_pem,
               "headers": {"X-Fixture-Token": "${secret:fixture_token}"}}),
    )
    .await;
    let view = env
        .call(
            Method::GET,
            "/v1/tenants/acme/mcp/servers/secure",
            &env.admin_key,
            None,
        )
        .await;
    assert_eq!(view["transport"]["ca_cert_pem"], json!(pki.ca_pem));
    let client = env.client(&env.agent_key).await;
    assert!(tool_names(&client)
        .await
        .contains(&"secure__echo".to_string()));
    let echoed = call(&client, "secure__echo", json!({"text": "over TLS"})).await;
    assert!(!is_error(&echoed), "{}", text(&echoed));
    assert!(text(&echoed).contains("over TLS"), "{}", text(&echoed));
    // The secret reached the upstream, inside TLS, as the header the template names.
    let sent = String::from_utf8_lossy(&seen.lock().unwrap()).to_lowercase();
    assert!(
        sent.contains("x-fixture-token: tls-secret-123"),
        "the header did not arrive"
    );
    assert!(sent.contains("mcp-session-id:"), "no session header");

    // The same endpoint without the CA: down, saying why, and its tools are not offered.
    env.call(
        Method::POST,
        "/v1/tenants/acme/mcp/servers",
        &env.admin_key,
        Some(json!({"name": "untrusted", "transport": {"type": "http", "url": url}})),
    )
    .await;
    let view = down(&env, "untrusted").await;
    let error = view["error"].as_str().unwrap();
    assert!(error.contains("not trusted"), "{error}");
    assert!(error.contains("ca_cert_pem"), "{error}");
    assert!(
        !error.contains("/mcp"),
        "the URL stays out of errors: {error}"
    );
    let client = env.client(&env.agent_key).await;
    let names = tool_names(&client).await;
    assert!(names.contains(&"secure__echo".to_string()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("untrusted__")),
        "{names:?}"
    );
    let refused = call(&client, "untrusted__echo", json!({"text": "x"})).await;
    assert!(is_error(&refused), "{}", text(&refused));

    // The right CA but another name than the certificate's: refused, saying so.
    let by_name = url.replace("127.0.0.1", "localhost");
    env.call(
        Method::POST,
        "/v1/tenants/acme/mcp/servers",
        &env.admin_key,
        Some(json!({"name": "wrong-name", "transport":
            {"type": "http", "url": by_name, "ca_cert_pem": pki.ca_pem}})),
    )
    .await;
    let view = down(&env, "wrong-name").await;
    let error = view["error"].as_str().unwrap();
    assert!(
        error.contains(r#"not valid for name "localhost""#),
        "{error}"
    );

    // Another CA (of the same name, another key: rustls says BadSignature) is no better.
    let other = new_pki();
    let (status, _) = env
        .try_call(
            Method::PATCH,
            "/v1/tenants/acme/mcp/servers/untrusted",
            &env.admin_key,
            Some(json!({"transport": {"type": "http", "url": url, "ca_cert_pem": other.ca_pem}})),
        )
        .await;
    assert!(status.is_success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let view = down(&env, "untrusted").await;
    let error = view["error"].as_str().unwrap();
    assert!(error.contains("not trusted"), "{error}");
}

#[tokio::test]
async fn a_ca_that_is_not_a_certificate_is_refused_at_registration() {
    let env = Env::start(0).await;
    let cases = [
        json!({"type": "http", "url": "https://127.0.0.1:1/mcp", "ca_cert_pem": "hello"}),
        json!({"type": "http", "url": "https://127.0.0.1:1/mcp",
               "ca_cert_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}),
        json!({"type": "http", "url": "http://127.0.0.1:1/mcp", "ca_cert_pem": new_pki().ca_pem}),
        json!({"type": "http", "url": "https://127.0.0.1:1/mcp",
               "ca_cert_pem": format!("{}-----BEGIN PRIVATE KEY-----\nMC4\n-----END PRIVATE KEY-----\n", new_pki().ca_pem)}),
    ];
    for transport in cases {
        let (status, body) = env
            .try_call(
                Method::POST,
                "/v1/tenants/acme/mcp/servers",
                &env.admin_key,
                Some(json!({"name": "bad", "transport": transport})),
            )
            .await;
        assert_eq!(status.as_u16(), 422, "{body}");
        assert_eq!(body["field"], "transport.ca_cert_pem", "{body}");
    }
}

#[tokio::test]
async fn plain_http_to_another_host_is_flagged() {
    let env = Env::start(0).await;
    for (name, url) in [
        ("remote", "http://mcp.internal.example:8080/mcp"),
        ("sidecar", "http://127.0.0.1:9/mcp"),
    ] {
        env.call(
            Method::POST,
            "/v1/tenants/acme/mcp/servers",
            &env.admin_key,
            Some(json!({"name": name, "enabled": false,
                        "transport": {"type": "http", "url": url}})),
        )
        .await;
    }
    let path = "/v1/tenants/acme/mcp/servers";
    let remote = env
        .call(Method::GET, &format!("{path}/remote"), &env.admin_key, None)
        .await;
    assert!(
        remote["warnings"][0]
            .as_str()
            .unwrap()
            .contains("unencrypted"),
        "{remote}"
    );
    let sidecar = env
        .call(
            Method::GET,
            &format!("{path}/sidecar"),
            &env.admin_key,
            None,
        )
        .await;
    assert!(sidecar.get("warnings").is_none(), "{sidecar}");
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_host() {
    use axum::response::IntoResponse;
    // The host the redirect points at records any request that reaches it.
    let reached = Arc::new(Mutex::new(Vec::<String>::new()));
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_addr = other.local_addr().unwrap();
    let log = reached.clone();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(format!("{headers:?}"));
            "{}"
        }
    });
    tokio::spawn(async move { axum::serve(other, app).await });
    let origin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin_addr = origin.local_addr().unwrap();
    let app = axum::Router::new().fallback(move || async move {
        (
            axum::http::StatusCode::TEMPORARY_REDIRECT,
            [("location", format!("http://{other_addr}/mcp"))],
        )
            .into_response()
    });
    tokio::spawn(async move { axum::serve(origin, app).await });

    let client = HttpClient::new(&HttpOptions::default()).unwrap();
    let mut headers = HashMap::new();
    headers.insert(
        http::HeaderName::from_static("x-api-key"),
        http::HeaderValue::from_static("secret"),
    );
    let ping = ClientJsonRpcMessage::request(
        ClientRequest::PingRequest(PingRequest::default()),
        RequestId::Number(1),
    );
    let result = client
        .post_message(
            format!("http://{origin_addr}/mcp").into(),
            ping,
            Some("session-1".into()),
            Some("token".into()),
            headers,
        )
        .await;
    match result {
        Err(StreamableHttpError::UnexpectedServerResponse(m)) => {
            assert!(
                m.contains("307") && m.contains("register the final URL"),
                "{m}"
            )
        }
        other => panic!("expected the redirect to be refused, got {other:?}"),
    }
    assert!(
        reached.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}
