#!/usr/bin/env python3
"""What an agent framework does around a risky tool call, against a running Sentinel.

    SENTINEL_URL=http://127.0.0.1:8787 SENTINEL_API_KEY=snt_… python3 approval_agent.py

1. Ask `POST /v1/check` before acting.
2. `allow`: act. `deny`: don't, and tell the model why.
3. `approval_required`: long-poll `GET /v1/approvals/{id}?wait=30s` until an operator answers.
4. Approved: resubmit the *exact* action with the grant in the `Sentinel-Grant` header; the
   grant works once. Denied, expired or cancelled: don't act.

Standard library only. Exit status: 0 acted, 2 refused.
"""
import json
import os
import sys
import urllib.request

URL = os.environ.get("SENTINEL_URL", "http://127.0.0.1:8787").rstrip("/")
KEY = os.environ["SENTINEL_API_KEY"]


def call(method, path, body=None, headers=None):
    req = urllib.request.Request(
        URL + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(req, timeout=70) as resp:
        return json.load(resp)


def governed(action, run):
    """Runs `run(arguments)` only if Sentinel allows `action`, waiting for a human if it must."""
    decision = call("POST", "/v1/check", action)
    if decision["outcome"] == "approval_required":
        approval_id = decision["approval_id"]
        print(f"held for approval {approval_id}: {'; '.join(decision['reasons'])}", file=sys.stderr)
        approval = call("GET", f"/v1/approvals/{approval_id}")
        while approval["status"] == "pending":
            approval = call("GET", f"/v1/approvals/{approval_id}?wait=30s")
        if approval["status"] != "approved":
            print(f"not approved: {approval.get('resolution')}", file=sys.stderr)
            return None
        # The same action, byte for byte in meaning: the grant is bound to its digest.
        decision = call("POST", "/v1/check", action, {"Sentinel-Grant": approval["grant"]["token"]})
    if decision["outcome"] != "allow":
        print(f"refused: {'; '.join(decision['reasons'])}", file=sys.stderr)
        return None
    return run(action["arguments"])


if __name__ == "__main__":
    action = {
        "kind": "tool_call",
        "target": {"tool": "rollback_deployment"},
        "arguments": {"service": "payments-api", "to": "v41"},
        "context": {"purpose": "error rate above SLO since the v42 deploy"},
    }
    result = governed(action, lambda args: f"rolled {args['service']} back to {args['to']}")
    print(result or "did nothing")
    sys.exit(0 if result else 2)
