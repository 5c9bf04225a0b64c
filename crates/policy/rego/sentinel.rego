# Sentinel's library module: combines the bundle's rules into one decision.
#
# Users write, in `package sentinel`:
#   deny contains msg if { ... }       # any deny wins
#   approval contains msg if { ... }   # otherwise any approval holds the action for a human
#   redact contains path if { ... }    # JSON paths the enforcement point must redact
# and may put a risk matrix in the bundle's data:
#   {"risk_matrix": {"rollback_deployment": "critical", "query_metrics": "safe"}}
#
# Risk comes only from the tool's registry record and the bundle's matrix, never from what the
# agent sends; a tool known to neither is critical; critical actions need approval.
# Plain Rego v1: the same files run in OPA.
package sentinel

# A risk is "known" when the bundle's matrix or the tool's registry record names it; the highest
# known one wins, so neither source can lower the other's.
known_risk(level) if data.risk_matrix[input.action.target.tool] == level

known_risk(level) if input.tool.risk == level

# An LLM request is not a tool call: a model call has no side effect of its own (the tool calls
# a model proposes are decided as tool calls), so its risk is "warning" unless the matrix names
# the model.
known_risk("warning") if input.action.kind == "llm_request"

default risk := "critical"

risk := "warning" if {
	not known_risk("critical")
	known_risk("warning")
}

risk := "safe" if {
	not known_risk("critical")
	not known_risk("warning")
	known_risk("safe")
}

deny contains msg if {
	input.tool.is_active == false
	msg := sprintf("tool %s is deactivated in the registry", [input.action.target.tool])
}

approval contains msg if {
	risk == "critical"
	msg := sprintf("%s is CRITICAL and needs a human", [input.action.target.tool])
}

default outcome := "allow"

outcome := "deny" if count(deny) > 0

outcome := "approval_required" if {
	count(deny) == 0
	count(approval) > 0
}

reasons := sort(deny) if count(deny) > 0

reasons := sort(approval) if {
	count(deny) == 0
	count(approval) > 0
}

default reasons := []

redactions := sort([p | some p in data.sentinel.redact])

# How a held action is approved, from the bundle's data (defaults, then per-tool overrides):
#   {"approvals": {"approvers": 1, "ttl_seconds": 900,
#                  "tools": {"rollback_deployment": {"approvers": 2, "ttl_seconds": 300}}}}
# `approvers` distinct operators must approve (any denial denies); an unanswered request expires
# after `ttl_seconds` (the server's default when absent).
default approval_defaults := {}

approval_defaults := object.remove(data.approvals, ["tools"])

default approval_for_tool := {}

approval_for_tool := data.approvals.tools[input.action.target.tool]

approval_settings := object.union(approval_defaults, approval_for_tool)

decision := {
	"outcome": outcome,
	"reasons": reasons,
	"risk": risk,
	"obligations": {"redact": redactions},
	"approval": approval_settings,
}
