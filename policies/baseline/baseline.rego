# Baseline: the registry is the allow-list. Unregistered tools are denied; critical tools (and
# tools nobody assessed) need a human, via the library module's approval rule.
package sentinel

deny contains msg if {
	not input.tool.name
	msg := sprintf("tool %s is not registered", [input.action.target.tool])
}
