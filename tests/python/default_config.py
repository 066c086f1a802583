"""The official MCP Python SDK against `plue-mcp serve` on the built-in default.

No backend runs: the host must still start, list every bundled tool, and answer
a call with an isError result that names the endpoint and what to check.
Usage: python3 default_config.py path/to/plue-mcp
"""

import asyncio
import os
import socket
import sys
import tempfile

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

EXPECTED_GROUPS = {
    "prometheus": ["prometheus_query", "prometheus_query_range", "prometheus_series", "prometheus_labels",
                   "prometheus_targets", "prometheus_alerts", "service_health", "error_analysis", "latency_analysis"],
    "workflows": ["system_overview", "quick_debug", "compare_runs", "list_workflow_runs", "get_run_details",
                  "get_step_logs", "get_run_logs", "analyze_failures", "get_runner_pool", "get_pending_tasks",
                  "workflow_stats", "get_workflow_definition", "recent_agent_activity"],
    "logs": ["search_logs", "tail_logs", "find_errors", "trace_request", "find_slow_requests", "log_stats",
             "search_exceptions", "workflow_logs", "agent_logs"],
    "database": ["query", "describe_table", "list_tables", "find_user", "find_repository", "recent_activity",
                 "db_stats", "find_sessions", "check_connections", "explain_query"],
    "playwright": ["test_summary", "list_failures", "test_details", "view_attachment", "failure_patterns",
                   "flaky_tests", "slow_tests", "test_artifacts", "list_test_files"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(binary: str) -> None:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    # Nothing listens on these ports: the tools must say so.
    env["PROMETHEUS_URL"] = f"http://127.0.0.1:{free_port()}"
    env["LOKI_URL"] = f"http://127.0.0.1:{free_port()}"
    workdir = tempfile.mkdtemp()  # no plue-mcp.toml here: the built-in default applies
    params = StdioServerParameters(command=os.path.abspath(binary), args=["serve"], env=env, cwd=workdir)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.server_info.name == "plue-observability", init.server_info

            tools = (await session.list_tools()).tools
            names = {t.name for t in tools}
            expected = {name for group in EXPECTED_GROUPS.values() for name in group}
            missing = sorted(expected - names)
            assert not missing, f"missing tools: {missing}"
            for tool in tools:
                assert tool.input_schema.get("type") == "object", tool.name
                assert tool.annotations is not None and tool.annotations.read_only_hint, tool.name

            result = await session.call_tool("prometheus_query", {"query": "up"})
            text = " ".join(c.text for c in result.content if c.type == "text")
            assert result.is_error, text
            assert "endpoint `prometheus`" in text, text

            result = await session.call_tool("query", {"sql": "SELECT 1"})
            text = " ".join(c.text for c in result.content if c.type == "text")
            assert result.is_error and "DATABASE_URL" in text, text

            result = await session.call_tool("prometheus_query", {"query": 42})
            text = " ".join(c.text for c in result.content if c.type == "text")
            assert result.is_error and "`query`" in text, text
    print(f"python MCP SDK: initialize, list ({len(names)} tools) and call over stdio: ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
