# LLM requests (kind "llm_request", from the LLM gateway): which models an agent may use, a cap
# on max_tokens, prompt injection in user and tool messages denied, and secrets and PII in
# messages redacted before the provider sees them. The bundle's data configures it:
#   {"llm": {"models": {"*": ["gpt-4o-mini"], "research-bot": ["gpt-4o", "gpt-4o-mini"]},
#            "max_tokens": 4096, "denied_tools": ["delete_database"]}}
# Without data.llm.models every model is allowed; without data.llm.max_tokens, any cap.
package sentinel

is_llm if input.action.kind == "llm_request"

llm_models := data.llm.models[input.agent.name]

llm_models := data.llm.models["*"] if not data.llm.models[input.agent.name]

deny contains msg if {
	is_llm
	data.llm.models
	not input.action.arguments.model in llm_models
	msg := sprintf("agent %s may not use model %s", [input.agent.name, input.action.arguments.model])
}

deny contains msg if {
	is_llm
	input.action.arguments.max_tokens > data.llm.max_tokens
	msg := sprintf("max_tokens %d is above the limit of %d", [input.action.arguments.max_tokens, data.llm.max_tokens])
}

# The role of the message a finding is in (user, tool, system, assistant).
finding_role(f) := m.role if {
	some i, m in input.action.arguments.messages
	startswith(f.path, sprintf("$.arguments.messages[%d].", [i]))
}

deny contains msg if {
	is_llm
	some f in input.scan.findings
	f.detector == "injection"
	f.score >= 0.7
	finding_role(f) in {"user", "tool"}
	msg := sprintf("possible prompt injection (%s) in a %s message", [f.rule, finding_role(f)])
}

# The tool calls a model proposes reach policy before the agent sees them (endpoint
# "chat.tool_calls"): tools in data.llm.denied_tools are never handed to an agent.
deny contains msg if {
	is_llm
	some c in input.action.arguments.tool_calls
	c.name in data.llm.denied_tools
	msg := sprintf("the model proposed a call to %s, which agents may not make", [c.name])
}

redact contains f.path if {
	is_llm
	some f in input.scan.findings
	f.detector == "secrets"
}
