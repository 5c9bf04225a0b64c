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

# One else chain, not several definitions: its branches are exclusive, so the rule provably
# cannot produce two values and the bundle may run on the bytecode VM (docs/policies.md).
risk := "critical" if {
	known_risk("critical")
} else := "warning" if {
	known_risk("warning")
} else := "safe" if {
	known_risk("safe")
} else := "critical"

deny contains msg if {
	input.tool.is_active == false
	msg := sprintf("tool %s is deactivated in the registry", [input.action.target.tool])
}

approval contains msg if {
	risk == "critical"
	msg := sprintf("%s is CRITICAL and needs a human", [input.action.target.tool])
}

outcome := "deny" if {
	count(deny) > 0
} else := "approval_required" if {
	count(approval) > 0
} else := "allow"

reasons := sort(deny) if {
	count(deny) > 0
} else := sort(approval) if {
	count(approval) > 0
} else := []

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
