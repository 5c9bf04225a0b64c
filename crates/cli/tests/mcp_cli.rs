//! `sentinel mcp servers add` against the real binary: an https:// upstream with a private CA
//! read from a PEM file (`--ca-cert`) is stored in the record; a key file, a missing file or a
//! CA without an https:// URL are refused.

mod common;

use common::*;

/// A CA certificate made once with `openssl req -x509 -newkey ec …` (valid until 2126); only
/// its certificate is needed here, since nothing connects.
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBpTCCAUugAwIBAgIUOb+CaiJQ3WIWL0MCayFd0imQQrgwCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUU2VudGluZWwgQ0xJIHRlc3QgQ0EwIBcNMjYxMTIyMTExOTM4
WhgPMjEyNjEwMjkxMTE5MzhaMB8xHTAbBgNVBAMMFFNlbnRpbmVsIENMSSB0ZXN0
IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq8C360O26MW48JrBAte8l7ww
NS+FqvAhWWiNkILijHSKw41Ga6erN5O45DMzysqYIvGS2OCf3Z5qiduK45kofqNj
MGEwHQYDVR0OBBYEFJZLQv9lOzsHQWtasebOpbNfwQBOMB8GA1UdIwQYMBaAFJZL
Qv9lOzsHQWtasebOpbNfwQBOMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD
AgIEMAoGCCqGSM49BAMCA0gAMEUCIQC1wv0RsKYctvm8pE4fpl9y2nzkO1ZVo/d3
JwYrJIMtSgIgRCiwymd5J/VXzZSuGmiaMtX5S+5A2aoIrM6WjLfqKVc=
-----END CERTIFICATE-----
";

#[test]
fn an_https_upstream_is_registered_with_a_private_ca_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    ok(run(&server, &["tenants", "create", "acme"]));
    let ca = dir.path().join("corp-ca.pem");
    std::fs::write(&ca, CA_PEM).unwrap();
    let ca = ca.to_str().unwrap();

    // --disabled: registered, never connected (nothing listens there).
    let add = |name: &str, url: &str, ca: &str| {
        run(
            &server,
            &[
                "mcp",
                "servers",
                "add",
                "-t",
                "acme",
                name,
                "--http-url",
                url,
                "--ca-cert",
                ca,
                "--disabled",
                "-o",
                "json",
            ],
        )
    };
    ok(add("internal", "https://127.0.0.1:9/mcp", ca));
    let listed: serde_json::Value = serde_json::from_str(&ok(run(
        &server,
        &["mcp", "servers", "list", "-t", "acme", "-o", "json"],
    )))
    .unwrap();
    let record = &listed[0];
    assert_eq!(record["name"], "internal");
    assert_eq!(record["transport"]["ca_cert_pem"], CA_PEM);
    assert_eq!(record["state"], "stopped");

    let refused = add("plain", "http://127.0.0.1:9/mcp", ca);
    assert!(!refused.status.success());
    assert!(
        stderr_text(&refused).contains("ca_cert_pem"),
        "{}",
        stderr_text(&refused)
    );

    let key = dir.path().join("key.pem");
    std::fs::write(
        &key,
        format!("{CA_PEM}-----BEGIN PRIVATE KEY-----\nMC4\n-----END PRIVATE KEY-----\n"),
    )
    .unwrap();
    let refused = add("with-key", "https://127.0.0.1:9/mcp", key.to_str().unwrap());
    assert!(!refused.status.success());
    assert!(
        stderr_text(&refused).contains("private key"),
        "{}",
        stderr_text(&refused)
    );

    let missing = add("missing", "https://127.0.0.1:9/mcp", "/nonexistent/ca.pem");
    assert!(!missing.status.success());
    assert!(
        stderr_text(&missing).contains("/nonexistent/ca.pem"),
        "{}",
        stderr_text(&missing)
    );
}

fn stderr_text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
