# Baseline: the registry is the allow-list. Unregistered tools are denied; critical tools (and
# tools nobody assessed) need a human, via the library module's approval rule. LLM requests are
# not tools: llm.rego decides them.
package sentinel

deny contains msg if {
	not is_llm
	not input.tool.name
	msg := sprintf("tool %s is not registered", [input.action.target.tool])
}
