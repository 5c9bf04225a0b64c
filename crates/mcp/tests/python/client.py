"""An agent built on the official Python MCP SDK, talking to Sentinel's MCP gateway.

Usage: client.py URL KEY SCRIPT_JSON
SCRIPT_JSON is a list of steps: {"list": true} or {"call": NAME, "arguments": {...}}.
Prints one JSON line per step: the tool names listed, or the call's isError and text.
"""

import json
import sys

import anyio
import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    url, key, script = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                print(json.dumps({"protocol": init.protocol_version, "server": init.server_info.name}), flush=True)
                for step in script:
                    if step.get("list"):
                        tools = await session.list_tools()
                        print(json.dumps({"tools": sorted(t.name for t in tools.tools)}), flush=True)
                    else:
                        result = await session.call_tool(step["call"], step.get("arguments", {}))
                        text = "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
                        print(json.dumps({"is_error": bool(result.is_error), "text": text}), flush=True)


anyio.run(main)
