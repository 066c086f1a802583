"""Starts plue-mcp exactly as deploy/ describes it and talks to it as the agents would.

- Compose: `plue-mcp check` on the mounted config (every backend reachable, no warning about
  the role postgres/initdb/ created), then the plue-mcp service's command with that config
  and its environment (secrets from env.example), over HTTP; its healthcheck URL, /readyz,
  /metrics, and an MCP initialize with the agents' bearer token.
- Kubernetes: each rendering kube_check.py wrote: the Deployment's args with the ConfigMap's
  plue-mcp.toml and the container's environment (Secret values made up here); every probe,
  with its own Host header, and an MCP initialize.
- Agents: every server of every file in deploy/agents/, with each client's variable syntax
  expanded: stdio ones started through the official MCP Python SDK, HTTP ones pointed at the
  Compose server; initialize and tools/list must return every tool `plue-mcp tools` lists for
  the same configuration.
Backends are the real Prometheus, Loki and PostgreSQL deploy/test.sh started: addresses that
name Compose services or cluster DNS are pointed at them. Features other branches are still
adding (`--stateless`, /healthz, /readyz, /metrics, [server.auth]) are checked when the
binary has them and reported as not checked while they are pending (common.PENDING).
Usage: python3 servers_check.py PLUE_MCP PROM_URL LOKI_URL PG_PORT KUBE_RENDER_DIR
"""

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import yaml
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from common import DEPLOY, Failures, free_port, http, load_yaml_docs, rel

AUTH_BLOCK = re.compile(r"^# ---- BEGIN auth.*?^# ---- END auth ----$", re.M | re.S)
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "deploy-test", "version": "1"}}}


class Ctx:
    def __init__(self, f: Failures, binary: str, prom: str, loki: str, pg_port: str, tmp: Path):
        self.f, self.binary, self.prom, self.loki, self.pg_port, self.tmp = f, binary, prom, loki, pg_port, tmp
        self.example = dict(line.split("=", 1) for line in (DEPLOY / "env.example").read_text().splitlines()
                            if line and not line.startswith("#"))
        self.token = self.example["PLUE_MCP_TOKEN"]
        self.has_stateless = "--stateless" in subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
        self.procs: list[subprocess.Popen] = []
        self.counts: dict[tuple, int] = {}

    def env(self, extra: dict) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PROMETHEUS_URL", "LOKI_URL")}
        env.update(extra)
        return env

    def db_url(self) -> str:
        return f"postgres://plue_reader:{self.example['PLUE_READER_PASSWORD']}@127.0.0.1:{self.pg_port}/plue"

    def tool_count(self, args: list, env: dict, cwd: Path) -> int:
        """How many tools `plue-mcp tools ARGS` lists (the tool list depends on the config only)."""
        if tuple(args) in self.counts:
            return self.counts[tuple(args)]
        out = subprocess.run([self.binary, "tools", "--json", *args], capture_output=True, text=True, env=env, cwd=cwd)
        if not self.f.check(out.returncode == 0, f"plue-mcp tools {' '.join(args)}: {out.stderr.strip()[-500:]}"):
            return -1
        self.counts[tuple(args)] = len(json.loads(out.stdout))
        return self.counts[tuple(args)]


# ---- the auth block: active when the binary knows [server.auth] ----

def auth_state(ctx: Ctx, config: Path, env: dict, label: str) -> bool:
    """Whether the config's marked auth block is active; fails if it should be and is not."""
    text = config.read_text()
    block = AUTH_BLOCK.search(text)
    if not ctx.f.check(block is not None, f"{label}: no marked `# ---- BEGIN auth` … `END auth ----` block"):
        return False
    body = [line for line in block.group(0).splitlines()[1:-1]]
    active = any(line.strip() and not line.lstrip().startswith("#") for line in body)
    if active:
        return True
    trial = ctx.tmp / f"auth-{re.sub(r'[^a-z0-9]+', '-', label)}.toml"
    code = "\n".join(re.sub(r"^# ?(?=\[|\w+ *=)", "", line) for line in body)
    trial.write_text(text.replace(block.group(0), code))
    out = subprocess.run([ctx.binary, "tools", "--config", str(trial)], capture_output=True, text=True, env=env)
    if out.returncode == 0:
        ctx.f.add(f"{label}: plue-mcp accepts the auth block: uncomment it")
    else:
        ctx.f.missing_feature("auth", f"{label}: plue-mcp rejects the auth block: {(out.stderr.strip().splitlines() or [''])[-1].strip()[:120]}")
    return False


# ---- one HTTP server ----

def start(ctx: Ctx, name: str, args: list, env: dict):
    """Starts `plue-mcp ARGS` with --http moved to a free loopback port; returns a function
    that waits until it listens and gives its base URL (None if it did not start)."""
    args = list(args)
    if "--stateless" in args and not ctx.has_stateless:
        ctx.f.missing_feature("stateless", f"{name}: plue-mcp has no `serve --stateless`")
        args.remove("--stateless")
    if not ctx.f.check("--http" in args, f"{name}: does not serve --http: {args}"):
        return lambda: None
    port = free_port()
    args[args.index("--http") + 1] = f"127.0.0.1:{port}"
    log = ctx.tmp / f"{re.sub(r'[^a-z0-9]+', '-', name)}.log"
    proc = subprocess.Popen([ctx.binary, *args], env=env, cwd=ctx.tmp, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    ctx.procs.append(proc)
    base = f"http://127.0.0.1:{port}"

    def wait() -> str | None:
        for _ in range(480):
            if proc.poll() is not None:
                ctx.f.add(f"{name}: plue-mcp {' '.join(args)} exited with {proc.returncode}:\n{log.read_text()[-1500:]}")
                return None
            if http(f"{base}/mcp", timeout=2)[0] != 0:
                return base
            time.sleep(0.25)
        ctx.f.add(f"{name}: plue-mcp did not listen on {base} within 120 s:\n{log.read_text()[-1500:]}")
        return None
    return wait


def check_path(ctx: Ctx, name: str, base: str, path: str, feature: str, host: str | None = None) -> None:
    headers = {"Host": host} if host else {}
    status, _, body = http(f"{base}{path}", headers=headers)
    if status == 404:
        ctx.f.missing_feature(feature, f"{name}: GET {path} answers 404 (plue-mcp has no {path})")
    elif ctx.f.check(status == 200, f"{name}: GET {path} (Host {host or 'default'}) answered {status}: {body[:300]}"):
        if path == "/metrics":
            ctx.f.check("plue_mcp_" in body, f"{name}: /metrics has no plue_mcp_* series")


def initialize(ctx: Ctx, name: str, base: str, auth: bool) -> None:
    data = json.dumps(INITIALIZE).encode()
    status, _, body = http(f"{base}/mcp", data, {**MCP_HEADERS, "Authorization": f"Bearer {ctx.token}"})
    ctx.f.check(status == 200 and '"serverInfo"' in body and "plue-observability" in body,
                f"{name}: MCP initialize with the bearer token answered {status}: {body[:300]}")
    if auth:
        for label, headers in (("no token", MCP_HEADERS), ("a wrong token", {**MCP_HEADERS, "Authorization": "Bearer wrong"})):
            status, _, body = http(f"{base}/mcp", data, headers)
            ctx.f.check(status == 401, f"{name}: MCP initialize with {label} answered {status}, expected 401")


# ---- Compose ----

def compose_server(ctx: Ctx):
    """Starts the Compose server; returns a function that checks it and gives (base, args, env)."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    svc = compose["services"]["plue-mcp"]
    mounts = {c["target"]: DEPLOY / compose["configs"][c["source"]]["file"] for c in svc["configs"]}
    args = [str(mounts.get(a, a)) for a in svc["command"]]
    config = Path(args[args.index("--config") + 1])

    def value(v: str) -> str:
        return re.sub(r"\$\{(\w+)(:[?-][^}]*)?\}", lambda m: ctx.example.get(m.group(1), ""), str(v))

    env = ctx.env({k: value(v) for k, v in svc.get("environment", {}).items()})
    env.update(PROMETHEUS_URL=ctx.prom, LOKI_URL=ctx.loki, POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=ctx.pg_port,
               PLAYWRIGHT_DIR=str(ctx.tmp))
    name = "compose.yaml plue-mcp"
    auth = auth_state(ctx, config, env, rel(config))
    # Loads (and on a cold cache compiles) the plugins once before any server starts.
    config_args = args[args.index("--config"):args.index("--config") + 2]
    ctx.tool_count(config_args, env, ctx.tmp)
    # Every backend reachable, and the role postgres/initdb/ created is one plue-mcp accepts.
    out = subprocess.run([ctx.binary, "check", *config_args], capture_output=True, text=True, env=env, cwd=ctx.tmp)
    warnings = [line.strip() for line in out.stdout.splitlines() if line.lstrip().startswith("!")]
    ctx.f.check(out.returncode == 0 and not warnings, f"{name}: plue-mcp check {' '.join(config_args)} exited "
                f"{out.returncode} with warnings {warnings}:\n{(out.stdout + out.stderr)[-1500:]}")
    wait = start(ctx, name, args, env)

    def check():
        base = wait()
        if base:
            health = next(urlparse(a).path for a in svc["healthcheck"]["test"] if a.startswith("http"))
            check_path(ctx, name, base, health, "healthz")
            check_path(ctx, name, base, "/readyz", "readyz")
            check_path(ctx, name, base, "/metrics", "metrics", host="plue-mcp")  # as Prometheus scrapes it
            initialize(ctx, name, base, auth)
        return base, args, env
    return check


# ---- Kubernetes ----

def kube_server(ctx: Ctx, rendering: Path):
    """Starts the rendering's Deployment as a process; returns a function that checks it."""
    docs = load_yaml_docs(rendering)
    dep = next(d for d in docs if d["kind"] == "Deployment")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    name = f"kubernetes {rendering.stem} Deployment"
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    args = list(c["args"])
    for vol in pod["volumes"]:
        if "configMap" in vol:
            cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == vol["configMap"]["name"])
            for key, text in cm["data"].items():
                path = ctx.tmp / rendering.stem / key
                path.parent.mkdir(exist_ok=True)
                path.write_text(text)
                args = [str(path) if a == f"{mounts[vol['name']]}/{key}" else a for a in args]
    secrets = {"database-url": ctx.db_url(), "token": ctx.token}
    env = {}
    for e in c["env"]:
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            key = e["valueFrom"]["secretKeyRef"]["key"]
            if ctx.f.check(key in secrets, f"{name}: env {e['name']} reads Secret key {key}, which this test does not know"):
                env[e["name"]] = secrets[key]
    # Cluster DNS names do not resolve here: point the backends at the real ones.
    env.update(PROMETHEUS_URL=ctx.prom, LOKI_URL=ctx.loki)
    env = ctx.env(env)
    config = Path(args[args.index("--config") + 1])
    if not ctx.f.check(config.is_file(), f"{name}: --config {config} is not a ConfigMap key"):
        return lambda: None
    auth = auth_state(ctx, config, env, f"kubernetes {rendering.stem} ConfigMap {config.name}")
    wait = start(ctx, name, args, env)

    def check() -> None:
        base = wait()
        if not base:
            return
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            get = c.get(kind, {}).get("httpGet")
            if get:
                host = next((h["value"] for h in get.get("httpHeaders", []) if h["name"].lower() == "host"), None)
                check_path(ctx, f"{name} {kind}", base, get["path"], get["path"].strip("/"), host)
        initialize(ctx, name, base, auth)
    return check


# ---- agents ----

# The variables each client expands in its file: Claude Code `${VAR}` and `${VAR:-default}`;
# Cursor `${env:VAR}` and `${workspaceFolder}`; VS Code those and `${input:ID}`; Claude Desktop
# none. A file not listed here is a client this test does not know.
CLIENT_SYNTAX = {
    ".mcp.json": {"plain"},
    "cursor-mcp.json": {"env", "workspaceFolder"},
    "vscode-mcp.json": {"env", "workspaceFolder", "input"},
    "claude_desktop_config.json": set(),
}


def expand(ctx: Ctx, where: str, value: str, env: dict, inputs: dict, syntax: set) -> str:
    def one(m: re.Match) -> str:
        expr = m.group(1)
        kind = expr.split(":", 1)[0] if expr.startswith(("env:", "input:")) else expr if expr == "workspaceFolder" else "plain"
        if kind not in syntax:
            ctx.f.add(f"{where}: this client does not expand ${{{expr}}}")
            return ""
        if kind == "input":
            found = inputs.get(expr[6:])
        elif kind == "workspaceFolder":
            found = str(ctx.tmp)
        else:
            var, _, default = expr.removeprefix("env:").partition(":-")
            found = env.get(var) or (default if ":-" in expr else None)
        if found is None:
            ctx.f.add(f"{where}: nothing sets ${{{expr}}}")
            return ""
        return found
    return re.sub(r"\$\{([^}]+)\}", one, value)


async def mcp_session(transport, expected: int, where: str, f: Failures) -> None:
    async with transport as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            init = await session.initialize()
            f.check(init.server_info.name == "plue-observability", f"{where}: server {init.server_info.name}")
            tools = (await session.list_tools()).tools
            f.check(len(tools) == expected and expected > 0, f"{where}: tools/list gave {len(tools)} tools, `plue-mcp tools` {expected}")


def agents(ctx: Ctx, http_base: str | None, http_args: list, http_env: dict) -> int:
    """Starts every agent file's servers at once; returns how many entries there were."""
    sessions = []
    bin_dir = str(Path(ctx.binary).resolve().parent)
    env = ctx.env({"PLUE_READER_PASSWORD": ctx.example["PLUE_READER_PASSWORD"], "PLUE_MCP_TOKEN": ctx.token,
                   "PLUE_MCP_URL": f"{http_base}/mcp" if http_base else ""})
    http_tools = ctx.tool_count(http_args[http_args.index("--config"):http_args.index("--config") + 2], http_env, ctx.tmp)
    for path in sorted({*(DEPLOY / "agents").glob("*.json"), *(DEPLOY / "agents").glob(".*.json")}):
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            ctx.f.add(f"{rel(path)}: not JSON: {e}")
            continue
        syntax = CLIENT_SYNTAX.get(path.name)
        if not ctx.f.check(syntax is not None, f"{rel(path)}: not a client file this test knows ({sorted(CLIENT_SYNTAX)})"):
            continue
        inputs = {i["id"]: ctx.token if "token" in i["id"] else ctx.example["PLUE_READER_PASSWORD"] for i in doc.get("inputs", [])}
        entries = doc.get("mcpServers") or doc.get("servers") or {}
        ctx.f.check(bool(entries), f"{rel(path)}: no mcpServers or servers")
        for sname, entry in entries.items():
            where = f"{rel(path)} server {sname}"
            kind = entry.get("type") or ("http" if "url" in entry else "stdio")
            if kind == "stdio":
                command = expand(ctx, where, entry["command"], env, inputs, syntax)
                args = [expand(ctx, where, a, env, inputs, syntax) for a in entry.get("args", [])]
                senv = {**env, "PATH": f"{bin_dir}:{env.get('PATH', '')}",
                        **{k: expand(ctx, where, v, env, inputs, syntax) for k, v in entry.get("env", {}).items()}}
                cwd = Path(tempfile.mkdtemp(dir=ctx.tmp))  # a project without plue-mcp.toml
                if not ctx.f.check(command == "plue-mcp" and args[:1] == ["serve"], f"{where}: runs {command} {args}, not plue-mcp serve"):
                    continue
                expected = ctx.tool_count(args[1:], senv, cwd)
                params = StdioServerParameters(command=command, args=args, env=senv, cwd=str(cwd))
                sessions.append((where, mcp_session(stdio_client(params, errlog=open(ctx.tmp / "stdio.log", "a")), expected, where, ctx.f)))
            elif ctx.f.check(kind == "http", f"{where}: unknown type {kind}") and http_base:
                url = expand(ctx, where, entry["url"], env, inputs, syntax)
                url = url.replace("http://127.0.0.1:8808", http_base)  # the Compose server, on its test port
                ctx.f.check(url == f"{http_base}/mcp", f"{where}: url {entry['url']} is not the Compose plue-mcp's /mcp")
                headers = {k: expand(ctx, where, v, env, inputs, syntax) for k, v in entry.get("headers", {}).items()}
                ctx.f.check(headers.get("Authorization") == f"Bearer {ctx.token}", f"{where}: sends no bearer token from the environment")
                client = create_mcp_http_client(headers=headers)
                sessions.append((where, mcp_session(streamable_http_client(url, http_client=client), http_tools, where, ctx.f)))

    async def all_sessions():
        return await asyncio.gather(*(asyncio.wait_for(c, 90) for _, c in sessions), return_exceptions=True)
    for (where, _), outcome in zip(sessions, asyncio.run(all_sessions())):
        while isinstance(outcome, BaseExceptionGroup):  # the SDK's task groups wrap the cause
            outcome = outcome.exceptions[0]
        if isinstance(outcome, BaseException):
            ctx.f.add(f"{where}: the MCP client failed: {type(outcome).__name__}: {outcome}")
    return len(sessions)


def main() -> None:
    binary, prom, loki, pg_port, kube_dir = sys.argv[1:6]
    f = Failures("servers")
    with tempfile.TemporaryDirectory(prefix="plue-deploy-servers.") as tmp:
        ctx = Ctx(f, binary, prom, loki, pg_port, Path(tmp))
        try:
            # Start every server first: they load their plugins side by side.
            renderings = sorted(Path(kube_dir).glob("*.yaml"))
            compose_check = compose_server(ctx)
            kube_checks = [kube_server(ctx, r) for r in renderings]
            base, args, env = compose_check()
            for check in kube_checks:
                check()
            servers = agents(ctx, base, args, env)
        finally:
            for p in ctx.procs:
                p.terminate()
            for p in ctx.procs:
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
    f.finish(f"plue-mcp as compose.yaml and {len(renderings)} Kubernetes renderings run it: up and answering MCP; "
             f"{servers} agent server entries started and listed their tools")


if __name__ == "__main__":
    main()
