"""The official Python MCP SDK client, driven by a call plan (tests/e2e/clients.rs).

Usage: python3 py_client.py PLAN.json --url http://127.0.0.1:PORT/mcp
       python3 py_client.py PLAN.json -- COMMAND [ARGS...]     (stdio)
Over HTTP, MCP_BEARER_TOKEN (when set) is sent as `Authorization: Bearer ...`.

PLAN.json: {"calls": [{"tool", "arguments", "expect": "ok" | "error", "contains": [..]}]}.
Lists the tools, calls each planned tool (the SDK checks structured content against the
tool's outputSchema), and compares each answer with the plan. Prints one line per tool;
exits 1 naming tool and reason on any rejection, client warning or broken expectation,
2 on bad usage.
"""

import asyncio
import importlib.metadata
import json
import logging
import os
import sys
import time
from contextlib import asynccontextmanager

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


class Noises(logging.Handler):
    """Warnings the SDK logs on its own, and transport exceptions, by the phase they came in."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.phase = "connect"
        self.seen: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((self.phase, record.getMessage()))

    def add(self, text: str) -> None:
        self.seen.append((self.phase, text))


def one_line(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def usage(message: str) -> None:
    print(f"py_client: {message}\nusage: python3 py_client.py PLAN.json (--url URL | -- COMMAND [ARGS...])", file=sys.stderr)
    sys.exit(2)


def parse_args(argv: list[str]) -> tuple[str, dict]:
    if not argv:
        usage("missing PLAN.json")
    plan_path, rest = argv[0], argv[1:]
    if len(rest) == 2 and rest[0] == "--url":
        return plan_path, {"url": rest[1]}
    if len(rest) >= 2 and rest[0] == "--":
        return plan_path, {"command": rest[1], "args": rest[2:]}
    usage("give --url URL or -- COMMAND")
    raise AssertionError


@asynccontextmanager
async def connect(target: dict):
    if "url" in target:
        token = os.environ.get("MCP_BEARER_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else None
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(target["url"], http_client=http) as (read, write):
                yield "streamable HTTP", read, write
    else:
        params = StdioServerParameters(command=target["command"], args=target["args"], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            yield "stdio", read, write


def rejection(error: Exception) -> str:
    """The SDK's message without the schema it dumps, with the JSON path that broke it."""
    message = one_line(str(error).split("\n\n")[0], 500)
    path = getattr(error.__cause__, "json_path", None)
    return f"{message} (at {path})" if path else message


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def judge(entry: dict, result) -> str | None:
    """What is wrong with one answer given its plan entry, or None."""
    text = text_of(result)
    is_error = bool(result.is_error)
    expect_error = entry.get("expect") == "error"
    if is_error and not expect_error:
        return f"expected success, got isError: {one_line(text)}"
    if not is_error and expect_error:
        return f"expected isError, got success: {one_line(text)}"
    missing = [n for n in entry.get("contains", []) if n not in text]
    if missing:
        return f"answer lacks {', '.join(json.dumps(m) for m in missing)}: {one_line(text)}"
    return None


async def list_all(session: ClientSession) -> list:
    from mcp import types

    tools, cursor = [], None
    while True:
        page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


async def run(plan: dict, target: dict, noises: Noises) -> list[str]:
    failures: list[str] = []

    async def on_message(message) -> None:
        if isinstance(message, Exception):
            noises.add(f"transport error: {message!r}")

    async with connect(target) as (label, read, write):
        version = importlib.metadata.version("mcp")
        target["name"] = f"python-sdk {version} over {label}"
        async with ClientSession(read, write, message_handler=on_message) as session:
            await session.initialize()
            noises.phase = "tools/list"
            try:
                tools = await list_all(session)
            except Exception as error:  # the SDK's rejection, whatever its type
                print(f"FAIL  tools/list  rejected by the client: {one_line(error, 2000)}")
                return ["tools/list"]
            print(f"ok    tools/list  {len(tools)} tools")
            listed = {t.name for t in tools}
            for entry in plan["calls"]:
                if entry["tool"] not in listed:
                    print(f"FAIL  {entry['tool']}  planned but not listed")
                    failures.append(f"{entry['tool']}: planned but not listed")
                    continue
                noises.phase = entry["tool"]
                started = time.monotonic()
                size = 0
                try:
                    result = await session.call_tool(entry["tool"], entry.get("arguments") or {})
                    size = len(result.model_dump_json(by_alias=True, exclude_none=True))
                    problem = judge(entry, result)
                except Exception as error:
                    problem = f"rejected by the client: {rejection(error)}"
                ms = round((time.monotonic() - started) * 1000)
                status = "FAIL" if problem else "ok  "
                print(f"{status}  {entry['tool']}  {entry.get('expect')}  {ms} ms  {size} B" + (f"  {problem}" if problem else ""))
                if problem:
                    failures.append(f"{entry['tool']}: {problem}")
            noises.phase = "close"
    return failures


def main() -> None:
    plan_path, target = parse_args(sys.argv[1:])
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    noises = Noises()
    logging.getLogger().addHandler(noises)
    try:
        failures = asyncio.run(run(plan, target, noises))
    except Exception as error:
        print(f"FAIL  driver  {one_line(repr(error), 2000)}")
        failures = ["driver"]
    by_phase: dict[str, list[str]] = {}
    for phase, text in noises.seen:
        by_phase.setdefault(phase, []).append(text)
    for phase, texts in by_phase.items():
        distinct = list(dict.fromkeys(texts))[:5]
        print(f"FAIL  {phase}  {len(texts)} client warning(s): {' | '.join(one_line(t, 200) for t in distinct)}")
        failures.append(f"{phase}: {len(texts)} client warning(s)")
    name = target.get("name", "python-sdk")
    print(f"{name}: {len(plan['calls'])} planned calls, {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
