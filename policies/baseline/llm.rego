# LLM requests (kind "llm_request", from the LLM gateway): which models an agent may use, a cap
# on max_tokens, prompt injection in user and tool messages denied, and secrets and PII in
# messages redacted before the provider sees them. The bundle's data configures it:
#   {"llm": {"models": {"*": ["gpt-4o-mini"], "research-bot": ["gpt-4o", "gpt-4o-mini"]},
#            "max_tokens": 4096, "denied_tools": ["delete_database"]}}
# Without data.llm.models every model is allowed; without data.llm.max_tokens, any cap.
package sentinel

is_llm if input.action.kind == "llm_request"

# The agent's own list, else the "*" list: one else chain, so the rule has one value.
llm_models := models if {
	models := data.llm.models[input.agent.name]
} else := data.llm.models["*"]

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

# Injection found in a user or tool message (the path names the message). The message is
# matched here rather than through a helper function: a function that iterates to find its value
# could, as far as a static check can tell, yield two, and keep the bundle off the bytecode VM.
deny contains msg if {
	is_llm
	some f in input.scan.findings
	f.detector == "injection"
	f.score >= 0.7
	some i, m in input.action.arguments.messages
	m.role in {"user", "tool"}
	startswith(f.path, sprintf("$.arguments.messages[%d].", [i]))
	msg := sprintf("possible prompt injection (%s) in a %s message", [f.rule, m.role])
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
