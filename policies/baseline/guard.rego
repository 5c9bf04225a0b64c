# What the guard scanners found in the action (input.scan) decides too: secrets never leave
# through a tool call, dangerous commands are denied, likely prompt injections wait for a human,
# and PII is redacted by the enforcement point. LLM requests differ (llm.rego): secrets are
# redacted rather than denied, and injection in user or tool messages is denied.
package sentinel

deny contains msg if {
	not is_llm
	some f in input.scan.findings
	f.detector == "secrets"
	msg := sprintf("a secret (%s) is in %s", [f.rule, f.path])
}

deny contains msg if {
	some f in input.scan.findings
	f.detector == "command"
	f.score >= 0.7
	msg := sprintf("a dangerous command (%s) is in %s", [f.rule, f.path])
}

approval contains msg if {
	not is_llm
	some f in input.scan.findings
	f.detector == "injection"
	f.score >= 0.7
	msg := sprintf("possible prompt injection (%s) in %s", [f.rule, f.path])
}

redact contains f.path if {
	some f in input.scan.findings
	f.detector == "pii"
}
