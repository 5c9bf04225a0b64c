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

risk_ranks := {"safe": 0, "warning": 1, "critical": 2}

risk_names := ["safe", "warning", "critical"]

known_risks contains r if {
	r := data.risk_matrix[input.action.target.tool]
	risk_ranks[r]
}

known_risks contains r if {
	r := input.tool.risk
	risk_ranks[r]
}

default risk := "critical"

risk := risk_names[max({risk_ranks[r] | some r in known_risks})] if count(known_risks) > 0

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

reasons := sort([m | some m in deny]) if count(deny) > 0

reasons := sort([m | some m in approval]) if {
	count(deny) == 0
	count(approval) > 0
}

default reasons := []

redactions := sort([p | some p in data.sentinel.redact])

decision := {
	"outcome": outcome,
	"reasons": reasons,
	"risk": risk,
	"obligations": {"redact": redactions},
}
