package sentinel

finding(detector, rule, path, score) := {"detector": detector, "rule": rule, "path": path, "score": score, "severity": "high"}

safe_call(findings) := {
	"action": {"target": {"tool": "query_metrics"}},
	"tool": {"name": "query_metrics", "risk": "safe", "is_active": true},
	"scan": {"findings": findings},
}

test_secrets_in_arguments_are_denied if {
	d := decision with input as safe_call([finding("secrets", "github-pat", "$.arguments.token", 0.9)])
	d.outcome == "deny"
	d.reasons == ["a secret (github-pat) is in $.arguments.token"]
}

test_likely_injection_needs_approval if {
	d := decision with input as safe_call([finding("injection", "override", "$.arguments.text", 0.9)])
	d.outcome == "approval_required"
}

test_weak_injection_signals_pass if {
	d := decision with input as safe_call([finding("injection", "override", "$.arguments.text", 0.3)])
	d.outcome == "allow"
}

test_pii_is_redacted_not_blocked if {
	d := decision with input as safe_call([finding("pii", "email", "$.arguments.to", 0.9)])
	d.outcome == "allow"
	d.obligations.redact == ["$.arguments.to"]
}
