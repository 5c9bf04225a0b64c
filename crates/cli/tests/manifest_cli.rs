//! `sentinel manifest verify` on a manifest the real server signed: offline, with the audit
//! verifier key; a doctored manifest, a wrong result and a wrong key are refused.

mod common;

use common::{ok, run, run_as, start};
use serde_json::{json, Value};

#[test]
fn a_signed_manifest_verifies_offline_and_tampering_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let agent_key = common::acme_with_agent(&server);
    let decision: Value = serde_json::from_str(&ok(run_as(
        &server,
        &agent_key,
        &["check", "--tool", "query_metrics", "-o", "json"],
    )))
    .unwrap();

    // The agent reports the result and gets the manifest.
    let result = json!({"series": [1, 2, 3]});
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let envelope: Value = runtime.block_on(async {
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{}/v1/provenance/sign", server.url))
            .bearer_auth(&agent_key)
            .json(&json!({"decision_id": decision["decision_id"], "status": "succeeded", "result": result}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    });
    let audit_dir = dir.path().join("audit");
    ok(run(
        &server,
        &["audit", "fetch", "--out", audit_dir.to_str().unwrap()],
    ));
    let key = audit_dir.join("verifier-key.txt");
    let file = dir.path().join("manifest.json");
    let result_file = dir.path().join("result.json");
    std::fs::write(&file, envelope.to_string()).unwrap();
    std::fs::write(&result_file, result.to_string()).unwrap();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "manifest",
            "verify",
            file.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        common::sentinel().args(&args).output().unwrap()
    };

    let out = ok(verify(&["--result", result_file.to_str().unwrap()]));
    assert!(out.starts_with("VERIFIED"), "{out}");
    assert!(
        out.contains(&format!("index {}", decision["audit"]["index"])),
        "{out}"
    );

    std::fs::write(&result_file, json!({"series": [1, 2, 4]}).to_string()).unwrap();
    let out = verify(&["--result", result_file.to_str().unwrap()]);
    assert!(!out.status.success(), "a different result is refused");

    // Change the signature's first character (to one it is not: a fixed "A" left one
    // signature in 64 unchanged).
    let sig = envelope["signatures"][0]["sig"].as_str().unwrap();
    let first = if sig.starts_with('A') { 'B' } else { 'A' };
    let mut doctored = envelope.clone();
    doctored["signatures"][0]["sig"] = json!(format!("{first}{}", &sig[1..]));
    std::fs::write(&file, doctored.to_string()).unwrap();
    assert!(
        !verify(&[]).status.success(),
        "a doctored signature is refused"
    );

    std::fs::write(&file, envelope.to_string()).unwrap();
    let other = "other.local/audit+1a2b3c4d+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij";
    let out = common::sentinel()
        .args(["manifest", "verify", file.to_str().unwrap(), "--key", other])
        .output()
        .unwrap();
    assert!(!out.status.success(), "another key is refused");
}
