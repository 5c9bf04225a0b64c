package sentinel

registered(risk) := {"name": "t", "kind": "mcp", "risk": risk, "is_active": true}

test_unknown_tools_are_denied if {
	d := decision with input as {"action": {"target": {"tool": "nope"}}}
	d.outcome == "deny"
	d.reasons == ["tool nope is not registered"]
}

test_critical_tools_need_approval if {
	d := decision with input as {"action": {"target": {"tool": "t"}}, "tool": registered("critical")}
	d.outcome == "approval_required"
}

test_safe_tools_are_allowed if {
	d := decision with input as {"action": {"target": {"tool": "t"}}, "tool": registered("safe")}
	d.outcome == "allow"
	d.risk == "safe"
}

test_deactivated_tools_are_denied if {
	tool := object.union(registered("safe"), {"is_active": false})
	d := decision with input as {"action": {"target": {"tool": "t"}}, "tool": tool}
	d.outcome == "deny"
}
