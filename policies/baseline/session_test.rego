package sentinel

safe_tool(name) := {"name": name, "kind": "mcp", "risk": "safe", "is_active": true}

tainted := {"id": "s1", "tainted": true, "untrusted_sources": ["tool:web__fetch_page"]}

clean := {"id": "s1", "tainted": false, "untrusted_sources": []}

test_a_tainted_session_holds_sink_tools if {
	d := decision with input as {
		"action": {"target": {"tool": "mail__send_email"}},
		"tool": safe_tool("mail__send_email"),
		"session": tainted,
	}
	d.outcome == "approval_required"
	d.reasons == ["mail__send_email acts on the world and this session has read untrusted content (tool:web__fetch_page)"]
}

test_a_clean_session_sends_freely if {
	d := decision with input as {
		"action": {"target": {"tool": "mail__send_email"}},
		"tool": safe_tool("mail__send_email"),
		"session": clean,
	}
	d.outcome == "allow"
}

test_a_tainted_session_still_reads if {
	d := decision with input as {
		"action": {"target": {"tool": "web__fetch_page"}},
		"tool": safe_tool("web__fetch_page"),
		"session": tainted,
	}
	d.outcome == "allow"
}

test_tools_marked_as_sinks_are_held if {
	tool := object.union(safe_tool("crm__update_record"), {"metadata": {"sink": true}})
	d := decision with input as {
		"action": {"target": {"tool": "crm__update_record"}},
		"tool": tool,
		"session": tainted,
	}
	d.outcome == "approval_required"
}
