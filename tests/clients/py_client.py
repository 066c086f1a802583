"""The official Python MCP SDK client, driven by a call plan (tests/e2e/clients.rs).

Usage: python3 py_client.py PLAN.json --url http://127.0.0.1:PORT/mcp
       python3 py_client.py PLAN.json -- COMMAND [ARGS...]     (stdio)
Over HTTP, MCP_BEARER_TOKEN (when set) is sent as `Authorization: Bearer ...`.

PLAN.json: {"calls": [{"tool", "arguments", "expect": "ok" | "error", "contains": [..]}],
            "context": {...}} (optional; see run_context: prompts, resources, completions).
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


PNG_SIGNATURE = bytes.fromhex("89504e470d0a1a0a")


def lacks(text: str, needles: list[str] | None) -> str | None:
    missing = [n for n in needles or [] if n not in text]
    return f"lacks {', '.join(json.dumps(m) for m in missing)}: {one_line(text)}" if missing else None


async def run_context(session: ClientSession, context: dict, noises: Noises) -> list[str]:
    """Prompts, resources and completions through the SDK's typed methods; one line each."""
    import base64

    from mcp import types

    failures: list[str] = []

    async def check(label: str, fn) -> None:
        noises.phase = label
        started = time.monotonic()
        try:
            problem = await fn()
        except Exception as error:
            problem = f"rejected: {rejection(error)}"
        ms = round((time.monotonic() - started) * 1000)
        print(f"{'FAIL' if problem else 'ok  '}  {label}  {ms} ms" + (f"  {problem}" if problem else ""))
        if problem:
            failures.append(f"{label}: {problem}")

    async def list_prompts():
        names = [p.name for p in (await session.list_prompts()).prompts]
        missing = [n for n in context.get("prompt_names", []) if n not in names]
        return f"missing {', '.join(missing)} (listed: {', '.join(names)})" if missing else None

    await check("prompts/list", list_prompts)

    for p in context.get("prompts", []):
        async def get(p=p):
            try:
                result = await session.get_prompt(p["name"], p.get("arguments") or {})
            except Exception as error:
                if p.get("expect") == "error":
                    return lacks(str(error), p.get("contains"))
                raise
            if p.get("expect") == "error":
                return f"expected an error, got {len(result.messages)} messages"
            parts = []
            for m in result.messages:
                c = m.content
                parts.append(getattr(c, "text", None) or str(getattr(c, "uri", "")))
            return lacks("\n".join(parts), p.get("contains"))

        await check(f"prompts/get {p['name']} {json.dumps(p.get('arguments') or {})}", get)

    async def templates():
        listed = [t.uri_template for t in (await session.list_resource_templates()).resource_templates]
        missing = [t for t in context.get("templates", []) if t not in listed]
        return f"missing {', '.join(missing)}" if missing else None

    await check("resources/templates/list", templates)

    async def listing():
        uris = [str(r.uri) for r in (await session.list_resources()).resources]
        missing = [u for u in context.get("listed", []) if u not in uris]
        return f"missing {', '.join(missing)} ({len(uris)} listed)" if missing else None

    await check("resources/list", listing)

    for r in context.get("reads", []):
        async def read(r=r):
            try:
                result = await session.read_resource(r["uri"])
            except Exception as error:
                if r.get("expect") == "error":
                    return lacks(str(error), r.get("contains"))
                raise
            if r.get("expect") == "error":
                return f"expected an error, got {len(result.contents)} contents"
            if not result.contents:
                return "no contents"
            c = result.contents[0]
            if r.get("mime") and c.mime_type != r["mime"]:
                return f"mimeType {c.mime_type}, expected {r['mime']}"
            if r.get("png"):
                data = base64.b64decode(getattr(c, "blob", "") or "")
                if data[:8] != PNG_SIGNATURE:
                    return "blob is not a PNG"
                if r.get("bytes") and len(data) != r["bytes"]:
                    return f"{len(data)} bytes, expected {r['bytes']}"
                return None
            return lacks(getattr(c, "text", "") or "", r.get("contains"))

        await check(f"resources/read {r['uri']}", read)

    for c in context.get("completions", []):
        async def complete(c=c):
            if c.get("prompt"):
                ref = types.PromptReference(type="ref/prompt", name=c["prompt"])
            else:
                ref = types.ResourceTemplateReference(type="ref/resource", uri=c["template"])
            result = await session.complete(ref, {"name": c["argument"], "value": c["value"]}, c.get("context"))
            values = result.completion.values
            missing = [v for v in c.get("includes", []) if v not in values]
            if missing:
                return f"lacks {', '.join(missing)} (got {', '.join(values[:10])})"
            if c.get("first") and (not values or values[0] != c["first"]):
                return f"first is {values[0] if values else None}, expected {c['first']}"
            stray = [v for v in values if not v.lower().startswith(c["value"].lower())]
            return f"values not starting with {c['value']}: {', '.join(stray[:5])}" if stray else None

        label = c.get("prompt") or c.get("template")
        await check(f"completion/complete {label} {c['argument']}={json.dumps(c['value'])}", complete)
    return failures


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
            if plan.get("context"):
                failures.extend(await run_context(session, plan["context"], noises))
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
