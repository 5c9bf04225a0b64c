package sentinel

llm_input(model, max_tokens, findings) := {
	"action": {
		"kind": "llm_request",
		"target": {"tool": model, "server": "llm"},
		"arguments": {
			"model": model, "max_tokens": max_tokens,
			"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
		},
	},
	"agent": {"name": "sre-bot"},
	"scan": {"findings": findings},
}

llm_data := {"llm": {"models": {"*": ["gpt-4o-mini"], "sre-bot": ["gpt-4o-mini", "gpt-4o"]}, "max_tokens": 1000}}

test_llm_request_to_an_allowed_model_is_allowed if {
	d := decision with input as llm_input("gpt-4o", 100, []) with data.llm as llm_data.llm
	d.outcome == "allow"
}

test_llm_request_to_another_model_is_denied if {
	d := decision with input as llm_input("o3", 100, []) with data.llm as llm_data.llm
	d.outcome == "deny"
	d.reasons == ["agent sre-bot may not use model o3"]
}

test_llm_request_over_max_tokens_is_denied if {
	d := decision with input as llm_input("gpt-4o", 5000, []) with data.llm as llm_data.llm
	d.outcome == "deny"
}

test_llm_models_unrestricted_without_data if {
	d := decision with input as llm_input("anything", 100000, [])
	d.outcome == "allow"
}

test_injection_in_a_user_message_is_denied if {
	f := {"detector": "injection", "rule": "override", "path": "$.arguments.messages[1].content", "score": 0.9, "severity": "high"}
	d := decision with input as llm_input("gpt-4o", 100, [f])
	d.outcome == "deny"
	d.reasons == ["possible prompt injection (override) in a user message"]
}

test_injection_in_the_system_message_passes if {
	f := {"detector": "injection", "rule": "override", "path": "$.arguments.messages[0].content", "score": 0.9, "severity": "high"}
	d := decision with input as llm_input("gpt-4o", 100, [f])
	d.outcome == "allow"
}

test_secrets_in_prompts_are_redacted_not_denied if {
	f := {"detector": "secrets", "rule": "github-pat", "path": "$.arguments.messages[1].content", "score": 0.9, "severity": "high"}
	d := decision with input as llm_input("gpt-4o", 100, [f])
	d.outcome == "allow"
	d.obligations.redact == ["$.arguments.messages[1].content"]
}

test_a_proposed_call_to_a_denied_tool_is_denied if {
	inp := {
		"action": {"kind": "llm_request", "target": {"tool": "gpt-4o", "server": "llm"}, "arguments": {
			"endpoint": "chat.tool_calls", "model": "gpt-4o",
			"tool_calls": [{"name": "delete_database", "arguments": {"name": "prod"}}],
		}},
		"agent": {"name": "sre-bot"},
		"scan": {"findings": []},
	}
	d := decision with input as inp with data.llm as {"denied_tools": ["delete_database"]}
	d.outcome == "deny"
	d.reasons == ["the model proposed a call to delete_database, which agents may not make"]
}
