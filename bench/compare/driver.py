"""Drives MCP servers side by side with the official Python SDK client and prints a table.

Usage: python3 driver.py SPEC.json

Run by `cargo bench -p plue-mcp --bench compare`, which starts the backends, installs the
peers and writes SPEC.json:
  {"rounds": 3, "calls": 1000, "warmup": 100,
   "paths": [{"path": "sql", "servers": [{"name", "ours": bool, "command", "args", "env",
                                          "tool", "arguments"}],
              "floors": [{"name", "kind": "http" | "sql", "url" | "dsn", "sql", "read_only"}],
              "targets": {"peer_ratio": 0.8}}]}
Each round starts every server of a path afresh (its order rotating between rounds), times
`initialize` from spawn, warms up, then times `calls` sequential calls; the median of the
rounds' p50s is reported. Peak RSS is the server process's VmHWM. Every answer must be a
success: a server that answers with an error stops the run, naming it.
The client's own share: each server's answers (`initialize`, `tools/list`, one `tools/call`)
are captured raw, then replayed by a server that does nothing else (`spec["replay"]`, the bench
binary in replay mode); the same client's p50 against it is what the client alone costs for
that server's answer shape (its parsing, and for a tool with an output schema, its validation),
measured in alternating rounds like the servers.
With `spec["startup"]` (a server), it is also started `rounds` times, each with an empty
compile cache of its own, and timed from spawn to the answer of its first `tools/list`.
Prints JSON lines of results after the table for the harness ("RESULT {...}").
"""

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[round((len(ordered) - 1) * q)]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def peak_rss_mib(pid: int) -> float:
    """VmHWM of `pid` and its descendants (npx and uv start the server as a child)."""
    total = 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return total + sum(peak_rss_mib(child) for child in children_of(pid))


async def run_server(server: dict, calls: int, warmup: int) -> dict:
    params = StdioServerParameters(
        command=server["command"],
        args=server["args"],
        env={**os.environ, **server.get("env", {})},
    )
    before = set(children_of(os.getpid()))
    started = time.perf_counter()
    async with stdio_client(params, errlog=open(os.devnull, "w")) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            init_ms = (time.perf_counter() - started) * 1e3
            spawned = [p for p in children_of(os.getpid()) if p not in before]
            samples = []
            for i in range(warmup + calls):
                t = time.perf_counter()
                result = await session.call_tool(server["tool"], server["arguments"])
                elapsed = time.perf_counter() - t
                if getattr(result, "is_error", getattr(result, "isError", False)):
                    text = " ".join(getattr(c, "text", "") for c in result.content)[:300]
                    raise SystemExit(f"{server['name']}: `{server['tool']}` answered with an error: {text}")
                if i >= warmup:
                    samples.append(elapsed * 1e3)
            rss = sum(peak_rss_mib(p) for p in spawned)
    return {"init_ms": init_ms, "samples": samples, "rss_mib": rss}


async def run_startup(server: dict) -> dict:
    """Spawn to the first `tools/list` answer, with an empty compile cache."""
    with tempfile.TemporaryDirectory() as cache:
        params = StdioServerParameters(
            command=server["command"],
            args=server["args"],
            env={**os.environ, **server.get("env", {}), "PLUE_MCP_CACHE_DIR": cache},
        )
        before = set(children_of(os.getpid()))
        started = time.perf_counter()
        async with stdio_client(params, errlog=open(os.devnull, "w")) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                elapsed = (time.perf_counter() - started) * 1e3
                spawned = [p for p in children_of(os.getpid()) if p not in before]
                rss = sum(peak_rss_mib(p) for p in spawned)
    return {"ms": elapsed, "tools": len(tools.tools), "rss_mib": rss}


async def capture(server: dict, path: str) -> str:
    """The raw results of `initialize`, `tools/list` and one `tools/call` of `server`, as a
    JSON file at `path` for the replaying server."""
    proc = await asyncio.create_subprocess_exec(
        server["command"], *server["args"],
        env={**os.environ, **server.get("env", {})},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )

    async def ask(id_: int, method: str, params: dict) -> dict:
        message = {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}
        proc.stdin.write((json.dumps(message) + "\n").encode())
        await proc.stdin.drain()
        while True:
            answer = json.loads(await proc.stdout.readline())
            if answer.get("id") == id_:
                return answer["result"]

    canned = {"initialize": await ask(1, "initialize", {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "capture", "version": "1"}})}
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    canned["tools/list"] = await ask(2, "tools/list", {})
    canned["tools/call"] = await ask(3, "tools/call", {"name": server["tool"], "arguments": server["arguments"]})
    proc.stdin.close()
    proc.kill()
    await proc.wait()
    with open(path, "w") as f:
        json.dump(canned, f)
    return path


async def run_floor(floor: dict, calls: int, warmup: int) -> list[float]:
    samples = []
    if floor["kind"] == "http":
        import httpx

        async with httpx.AsyncClient() as client:
            for i in range(warmup + calls):
                t = time.perf_counter()
                response = await client.get(floor["url"])
                response.raise_for_status()
                response.json()
                if i >= warmup:
                    samples.append((time.perf_counter() - t) * 1e3)
    else:
        import psycopg

        with psycopg.connect(floor["dsn"], autocommit=not floor.get("read_only")) as conn:
            if floor.get("read_only"):
                conn.read_only = True
            for i in range(warmup + calls):
                t = time.perf_counter()
                with conn.cursor() as cur:
                    cur.execute(floor["sql"], prepare=True)
                    cur.fetchall()
                if floor.get("read_only"):
                    conn.rollback()
                if i >= warmup:
                    samples.append((time.perf_counter() - t) * 1e3)
    return samples


def fmt(ms: float) -> str:
    return f"{ms:7.3f}"


async def main(spec: dict) -> None:
    rounds, calls, warmup = spec["rounds"], spec["calls"], spec["warmup"]
    if "startup" in spec:
        runs = [await run_startup(spec["startup"]) for _ in range(rounds)]
        startup = {"ms": statistics.median(r["ms"] for r in runs), "tools": runs[0]["tools"],
                   "rss": max(r["rss_mib"] for r in runs)}
        print(f"## start-up: {spec['startup']['name']}, empty compile cache, spawn to the first "
              f"tools/list ({startup['tools']} tools), median of {rounds}: {startup['ms']:.1f} ms, "
              f"peak RSS {startup['rss']:.1f} MiB")
        print("STARTUP " + json.dumps(startup))
    for path in spec["paths"]:
        servers = path["servers"]
        per_server = {s["name"]: [] for s in servers}
        for r in range(rounds):
            order = servers[r % len(servers):] + servers[: r % len(servers)]
            for server in order:
                per_server[server["name"]].append(await run_server(server, calls, warmup))
        replays = []
        for i, server in enumerate(servers):
            canned = await capture(server, f"{spec['work']}/replay-{path['path']}-{i}.json")
            replays.append({"name": f"client alone, {server['name']} answers", "command": spec["replay"],
                            "args": [], "env": {"PLUE_COMPARE_REPLAY": canned},
                            "tool": server["tool"], "arguments": server["arguments"]})
        alone_runs = {replay["name"]: [] for replay in replays}
        for r in range(rounds):
            for replay in replays[r % len(replays):] + replays[: r % len(replays)]:
                run = await run_server(replay, calls, warmup)
                alone_runs[replay["name"]].append(percentile(run["samples"], 0.5))
        client_alone = {name: statistics.median(p50s) for name, p50s in alone_runs.items()}
        floors = {}
        for floor in path.get("floors", []):
            floors[floor["name"]] = statistics.median(
                [percentile(await run_floor(floor, calls, warmup), 0.5) for _ in range(rounds)]
            )
        print(f"\n## {path['path']}: `{servers[0]['tool']}` and peers, {calls} calls x {rounds} rounds (median of rounds)")
        print(f"{'server':<44} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'init ms':>8} {'peak RSS MiB':>13}")
        summary = {}
        for name, runs in per_server.items():
            row = {
                q: statistics.median(percentile(run["samples"], v) for run in runs)
                for q, v in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
            }
            row["init"] = statistics.median(run["init_ms"] for run in runs)
            row["rss"] = max(run["rss_mib"] for run in runs)
            summary[name] = row
            print(f"{name:<44} {fmt(row['p50'])} {fmt(row['p90'])} {fmt(row['p99'])} {row['init']:8.1f} {row['rss']:13.1f}")
        for name, p50 in floors.items():
            print(f"{'floor: ' + name:<44} {fmt(p50)}")
        for name, p50 in client_alone.items():
            print(f"{name:<44} {fmt(p50)}")
        ours = next(s["name"] for s in servers if s.get("ours"))
        for peer in (s["name"] for s in servers if not s.get("ours")):
            print(f"ours / {peer}: {summary[ours]['p50'] / summary[peer]['p50']:.2f}x (p50)")
        print("RESULT " + json.dumps({"path": path["path"], "ours": ours, "servers": summary, "floors": floors,
                                      "client_alone": client_alone}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python3 driver.py SPEC.json")
    with open(sys.argv[1]) as f:
        asyncio.run(main(json.load(f)))
