package sentinel

call(tool, args) := {"action": {"target": {"tool": tool}, "arguments": args}}

test_diagnostics_are_allowed if {
	every tool in ["query_metrics", "fetch_recent_logs", "list_recent_deployments"] {
		decision.outcome == "allow" with input as call(tool, {})
	}
}

test_restarts_are_allowed_outside_protected_namespaces if {
	d := decision with input as call("restart_kubernetes_pod", {"namespace": "payments"})
	d.outcome == "allow"
	d.risk == "warning"
}

test_restarts_in_kube_system_are_denied if {
	d := decision with input as call("restart_kubernetes_pod", {"namespace": "kube-system"})
	d.outcome == "deny"
}

test_rollback_needs_a_human if {
	d := decision with input as call("rollback_deployment", {"service": "api"})
	d.outcome == "approval_required"
	d.reasons == ["rollback_deployment is CRITICAL and needs a human"]
}

test_a_registry_record_cannot_lower_the_matrix_risk if {
	tool := {"name": "rollback_deployment", "risk": "safe", "is_active": true}
	d := decision with input as object.union(call("rollback_deployment", {}), {"tool": tool})
	d.risk == "critical"
}

test_unknown_tools_are_denied if {
	decision.outcome == "deny" with input as call("drop_database", {})
}
