# SRE bundle: the SRE seed's tool inventory. Read-only diagnostics are safe; restarts and cache
# flushes are warnings (allowed, but never in the cluster's own namespaces); rollbacks are
# critical and need a human. Tools outside the matrix and the registry are denied.
package sentinel

deny contains msg if {
	not data.risk_matrix[input.action.target.tool]
	not input.tool.name
	msg := sprintf("tool %s is not in the SRE inventory", [input.action.target.tool])
}

protected_namespaces := {"kube-system", "kube-public", "istio-system"}

deny contains msg if {
	input.action.target.tool == "restart_kubernetes_pod"
	protected_namespaces[input.action.arguments.namespace]
	msg := sprintf("pods in %s are not restarted by agents", [input.action.arguments.namespace])
}
