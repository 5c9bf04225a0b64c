# Session taint (the CaMeL idea): once a session has read untrusted content — a tool result in
# which the MCP gateway found a likely prompt injection, or provenance the agent declared —
# whatever it does next may follow someone else's instructions. Side-effecting "sink" tools
# (send, post, write, shell, …) of a tainted session wait for a human.
package sentinel

# Words in a tool's name that mark it as acting on the world.
sink_verbs := {
	"send", "post", "write", "shell", "exec", "execute", "delete", "remove", "commit", "push",
	"upload", "transfer", "email", "mail", "publish", "deploy",
}

# The tool's own name: `github__create_issue` → `create_issue`.
tool_base_name := name if {
	parts := split(input.action.target.tool, "__")
	name := parts[count(parts) - 1]
}

sink_tool if input.tool.metadata.sink == true

# Undefined when the bundle lists none; no bare `data` access, so the bytecode VM can run it.
sink_tool if input.action.target.tool in data.sink_tools

sink_tool if {
	some word in regex.split(`[^a-z]+`, lower(tool_base_name))
	word in sink_verbs
}

approval contains msg if {
	input.session.tainted
	sink_tool
	msg := sprintf("%s acts on the world and this session has read untrusted content (%s)", [
		input.action.target.tool,
		concat(", ", input.session.untrusted_sources),
	])
}
