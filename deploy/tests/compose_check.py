"""Checks deploy/compose.yaml, deploy/env.example and deploy/Dockerfile without a Docker engine.

compose.yaml must pass the Compose specification's JSON schema (the copy check-jsonschema
vendors), name only files that exist, take every secret from deploy/.env (all listed in
env.example, each with `:?` so Compose refuses to start without it), and run plue-mcp
hardened: read-only root, non-root user, no capabilities, config mounted where its command
reads it, a healthcheck on /healthz. Published ports are loopback-only; Alloy publishes its
browser-telemetry port. Every host the Prometheus and Grafana configs reach is a
service of the file (except the application's own `api` and `web`). The Dockerfile is parsed
by Docker's own parser (the `dockerfile` package) and linted by hadolint, then checked for a
multi-stage build of a static musl binary into an empty image, a numeric non-root USER and
exec-form ENTRYPOINT/CMD with no RUN (no shell) in the final stage; its build stage must copy
every workspace member and every file a Rust source includes (include_str!/include_bytes!).
Usage: python3 compose_check.py
"""

import re
import subprocess
import tomllib
from urllib.parse import urlparse

import dockerfile
import yaml

from common import DEPLOY, ROOT, Failures, rel

APP_SERVICES = {"api", "web"}  # the Plue application's own services, in its Compose file
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}")


def uncommented(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def env_example_vars(f: Failures) -> set[str]:
    names = set()
    for n, line in enumerate((DEPLOY / "env.example").read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if f.check(sep == "=" and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f"env.example:{n}: not NAME=value: {line!r}"):
            names.add(name)
            f.check(value != "", f"env.example:{n}: {name} has no example value")
    return names


def check_schema(f: Failures) -> None:
    out = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")],
                         capture_output=True, text=True)
    f.check(out.returncode == 0, f"compose.yaml fails the Compose specification schema:\n{out.stdout}{out.stderr}")


def check_variables(f: Failures, text: str, example: set[str]) -> None:
    used = {}
    for m in VAR.finditer(uncommented(text)):
        used[m.group(1)] = m.group(2)
    for name, op in sorted(used.items()):
        if op == ":-":
            continue  # has a default
        f.check(name in example, f"compose.yaml uses ${{{name}}}, which env.example does not list")
        f.check(op == ":?", f"compose.yaml: ${{{name}}} should be ${{{name}:?…}} so Compose refuses to start without it")
    for name in sorted(example - set(used)):
        f.add(f"env.example lists {name}, which compose.yaml never uses")


def check_paths(f: Failures, compose: dict) -> None:
    def exists(where: str, path: str) -> None:
        if "$" in path or not path.startswith("."):
            return
        f.check((DEPLOY / path).exists(), f"compose.yaml {where}: {path} does not exist")

    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            exists(f"service {name} volume", vol.split(":")[0])
        build = svc.get("build")
        if build:
            ctx = DEPLOY / build["context"]
            f.check((ctx / build["dockerfile"]).is_file(), f"compose.yaml service {name}: no {build['dockerfile']} in {build['context']}")
    for name, cfg in compose.get("configs", {}).items():
        exists(f"config {name}", cfg["file"])


def check_plue_mcp(f: Failures, compose: dict) -> None:
    svc = compose["services"].get("plue-mcp")
    if not f.check(svc is not None, "compose.yaml has no plue-mcp service"):
        return
    f.check(svc.get("read_only") is True, "compose.yaml plue-mcp: read_only must be true")
    user = str(svc.get("user", "0")).split(":")[0]
    f.check(user.isdigit() and user != "0", f"compose.yaml plue-mcp: user {user!r} must be a non-root uid")
    f.check(svc.get("cap_drop") == ["ALL"], "compose.yaml plue-mcp: cap_drop must be [ALL]")
    test = svc.get("healthcheck", {}).get("test", [])
    f.check(test[:1] == ["CMD"] and any(urlparse(a).path == "/healthz" for a in test),
            f"compose.yaml plue-mcp: healthcheck must GET /healthz without a shell, got {test}")
    cmd = svc.get("command", [])
    config_path = cmd[cmd.index("--config") + 1] if "--config" in cmd else None
    targets = {c["target"]: c["source"] for c in svc.get("configs", [])}
    if f.check(config_path in targets, f"compose.yaml plue-mcp: --config {config_path} is not a mounted config {sorted(targets)}"):
        toml = DEPLOY / compose["configs"][targets[config_path]]["file"]
        needed = {m.group(1) for m in VAR.finditer(uncommented(toml.read_text())) if not m.group(2)}
        given = set(svc.get("environment", {}))
        f.check(needed <= given, f"{rel(toml)} needs {sorted(needed - given)} from compose.yaml's plue-mcp environment")


def check_hosts(f: Failures, compose: dict) -> None:
    services = set(compose["services"])
    prom = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    for sc in prom["scrape_configs"]:
        for static in sc.get("static_configs", []):
            for target in static["targets"]:
                host = target.rsplit(":", 1)[0]
                f.check(host in services | APP_SERVICES | {"localhost"},
                        f"prometheus.yml job {sc['job_name']} scrapes {target}, not a compose.yaml service")
    ds = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/datasources.yml").read_text())
    for d in ds["datasources"]:
        host = urlparse(d["url"] if "//" in d["url"] else f"//{d['url']}").hostname
        f.check(host in services, f"datasources.yml {d['name']} reaches {host}, not a compose.yaml service")


def check_ports(f: Failures, compose: dict) -> None:
    """Every published port is bound to loopback (a front proxy publishes further), and
    Alloy publishes the port its browser-telemetry receiver listens on, which the web app's
    nginx (collector/nginx-telemetry.conf) sends to."""
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            f.check(str(port).startswith("127.0.0.1:"), f"compose.yaml {name}: port {port} is not bound to 127.0.0.1")
    alloy = (DEPLOY / "alloy" / "config.alloy").read_text()
    listen = re.search(r"listen_port\s*=\s*(\d+)", alloy)
    if f.check(listen is not None, "alloy/config.alloy: no listen_port for browser telemetry"):
        published = [str(p).split(":")[-1] for p in compose["services"].get("alloy", {}).get("ports", [])]
        f.check(listen.group(1) in published,
                f"compose.yaml alloy: publishes {published}, not the telemetry port {listen.group(1)} of config.alloy")


def build_inputs() -> set[str]:
    """Top-level paths of the repository a `cargo build` of the workspace reads."""
    members = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["members"]
    needed = {"Cargo.toml", "Cargo.lock"} | {m.split("/")[0] for m in members}
    for top in sorted(needed - {"Cargo.toml", "Cargo.lock"}):
        for src in (ROOT / top).rglob("*.rs"):
            if "node_modules" in src.parts or "target" in src.parts:
                continue
            for m in re.finditer(r'include_(?:str|bytes)!\(\s*"([^"]+)"', src.read_text(errors="replace")):
                target = (src.parent / m.group(1)).resolve()
                if target.is_relative_to(ROOT):
                    needed.add(target.relative_to(ROOT).parts[0])
    return needed


def check_dockerfile(f: Failures) -> None:
    path = DEPLOY / "Dockerfile"
    try:
        cmds = dockerfile.parse_file(str(path))
    except dockerfile.GoParseError as e:
        f.add(f"Dockerfile does not parse: {e}")
        return
    lint = subprocess.run(["hadolint", "--no-color", "--failure-threshold", "warning", str(path)],
                          capture_output=True, text=True)
    f.check(lint.returncode == 0, f"hadolint deploy/Dockerfile:\n{lint.stdout}{lint.stderr}")
    froms = [i for i, c in enumerate(cmds) if c.cmd == "FROM"]
    f.check(len(froms) >= 2, "Dockerfile: needs a build stage and a run stage")
    final = cmds[froms[-1]:]
    f.check(final[0].value[0] == "scratch", f"Dockerfile: the final stage should start FROM scratch, not {final[0].value[0]}")
    f.check(not [c for c in final if c.cmd == "RUN"], "Dockerfile: the final stage must not RUN anything (it has no shell)")
    users = [c.value[0] for c in final if c.cmd == "USER"]
    uid = users[-1].split(":")[0] if users else "0"
    f.check(uid.isdigit() and uid != "0", f"Dockerfile: the final stage must set a numeric non-root USER, got {users}")
    for kind in ("ENTRYPOINT", "CMD"):
        found = [c for c in final if c.cmd == kind]
        f.check(bool(found) and found[-1].json, f"Dockerfile: {kind} must be in exec (JSON) form")
    build = " ".join(c.original for c in cmds if c.cmd == "RUN")
    f.check("unknown-linux-musl" in build and "cargo build --release --locked" in build,
            "Dockerfile: the binary must be a static musl build (cargo build --release --locked --target *-unknown-linux-musl)")
    copied = set()
    for c in cmds[froms[0]:froms[1] if len(froms) > 1 else None]:
        if c.cmd == "COPY" and not any(fl.startswith("--from") for fl in c.flags):
            copied |= {v.rstrip("/").split("/")[0] for v in c.value[:-1]}
    missing = build_inputs() - copied
    f.check(not missing, f"Dockerfile: the build stage does not COPY {sorted(missing)}, which cargo build reads")
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    f.check("target/" in ignore and "deploy/.env" in ignore, "Dockerfile.dockerignore must exclude target/ and deploy/.env")


def main() -> None:
    f = Failures("compose")
    text = (DEPLOY / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    check_schema(f)
    check_variables(f, text, env_example_vars(f))
    check_paths(f, compose)
    check_plue_mcp(f, compose)
    check_hosts(f, compose)
    check_ports(f, compose)
    check_dockerfile(f)
    f.finish(f"compose.yaml ({len(compose['services'])} services) passes the Compose schema; Dockerfile parses and lints clean")


if __name__ == "__main__":
    main()
