"""Checks deploy/kubernetes/: renders the kustomize base and every overlay with `kubectl
kustomize`, validates each rendered object with kubernetes-validate (strict, against the
Kubernetes version given), and checks what the schema cannot: the Deployment runs plue-mcp
as stateless, non-root replicas with a read-only root, no service-account token, requests
and limits, and probes on /readyz and /healthz; the Service, PodDisruptionBudget,
HorizontalPodAutoscaler and NetworkPolicy all select its pods; the NetworkPolicy's egress
reaches only named peers, and every backend the config reads (its URL environment variables,
PostgreSQL's port for the database URL from the Secret) has a rule for its port; every
variable plue-mcp.toml needs is in the container's environment.
Writes each rendering to OUT_DIR/<name>.yaml for servers_check.py.
Usage: python3 kube_check.py KUBERNETES_VERSION OUT_DIR
"""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from common import DEPLOY, Failures, load_yaml_docs

POSTGRES_PORT = 5432  # the port of a DATABASE_URL the Secret holds, which no check can read
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")


def render(f: Failures, kdir: Path, out: Path) -> list:
    res = subprocess.run(["kubectl", "kustomize", str(kdir)], capture_output=True, text=True)
    if not f.check(res.returncode == 0, f"kubectl kustomize {kdir.relative_to(DEPLOY)}: {res.stderr.strip()}"):
        return []
    out.write_text(res.stdout)
    return load_yaml_docs(out)


def validate(f: Failures, version: str, path: Path, name: str) -> None:
    res = subprocess.run(["kubernetes-validate", "--strict", "--quiet", "-k", version, str(path)],
                         capture_output=True, text=True)
    f.check(res.returncode == 0 and "ERROR" not in res.stdout + res.stderr,
            f"{name}: kubernetes-validate {version}:\n{res.stdout}{res.stderr}")


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_deployment(f: Failures, name: str, dep: dict, objs: dict) -> dict:
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    where = f"{name} Deployment"
    f.check(pod.get("automountServiceAccountToken") is False, f"{where}: automountServiceAccountToken must be false")
    sa = objs.get(("ServiceAccount", pod.get("serviceAccountName")))
    f.check(sa is not None and sa.get("automountServiceAccountToken") is False,
            f"{where}: its ServiceAccount must exist with automountServiceAccountToken: false")
    f.check(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{where}: pod runAsNonRoot must be true")
    sc = c.get("securityContext", {})
    f.check(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem must be true")
    f.check(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation must be false")
    f.check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities must drop ALL")
    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        f.check({"cpu", "memory"} <= set(res.get(kind, {})), f"{where}: resources.{kind} needs cpu and memory")
    f.check(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", f"{where}: readiness probe must GET /readyz")
    f.check(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", f"{where}: liveness probe must GET /healthz")
    args = c.get("args", [])
    f.check("--http" in args and "--stateless" in args, f"{where}: args must serve --http --stateless, got {args}")
    # --config names a file of the mounted ConfigMap, and that file's variables are all set.
    config = args[args.index("--config") + 1] if "--config" in args else ""
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    env = {e["name"] for e in c.get("env", [])}
    for vol in pod.get("volumes", []):
        m = mounts.get(vol["name"])
        cm_ref = vol.get("configMap")
        if not (m and cm_ref and config.startswith(m["mountPath"].rstrip("/") + "/")):
            continue
        f.check(m.get("readOnly") is True, f"{where}: the config volume must be mounted readOnly")
        key = config[len(m["mountPath"].rstrip("/")) + 1:]
        toml = objs.get(("ConfigMap", cm_ref["name"]), {}).get("data", {}).get(key)
        if f.check(toml is not None, f"{where}: --config {config}: ConfigMap {cm_ref['name']} has no key {key}"):
            code = "\n".join(line for line in toml.splitlines() if not line.lstrip().startswith("#"))
            needed = {m_.group(1) for m_ in VAR.finditer(code) if not m_.group(2)}
            f.check(needed <= env, f"{where}: plue-mcp.toml needs {sorted(needed - env)} in the container's env")
        return {"config_key": key, "configmap": cm_ref["name"]}
    f.add(f"{where}: --config {config!r} is not in a mounted ConfigMap")
    return {}


def check_selectors(f: Failures, name: str, dep: dict, objs: dict) -> None:
    labels = dep["spec"]["template"]["metadata"].get("labels", {})
    for kind, sel in (("Service", lambda o: o["spec"].get("selector")),
                      ("PodDisruptionBudget", lambda o: o["spec"]["selector"].get("matchLabels")),
                      ("NetworkPolicy", lambda o: o["spec"]["podSelector"].get("matchLabels"))):
        found = [o for (k, _), o in objs.items() if k == kind]
        if f.check(len(found) == 1, f"{name}: expected one {kind}, found {len(found)}"):
            f.check(selects(sel(found[0]), labels), f"{name} {kind}: selector {sel(found[0])} does not select the pods {labels}")
    hpa = [o for (k, _), o in objs.items() if k == "HorizontalPodAutoscaler"]
    pdb = [o for (k, _), o in objs.items() if k == "PodDisruptionBudget"]
    if f.check(len(hpa) == 1, f"{name}: expected one HorizontalPodAutoscaler"):
        ref = hpa[0]["spec"]["scaleTargetRef"]
        f.check((ref["kind"], ref["name"]) == ("Deployment", dep["metadata"]["name"]), f"{name} HPA: targets {ref}")
        if pdb:
            f.check(hpa[0]["spec"]["minReplicas"] > pdb[0]["spec"].get("minAvailable", 0),
                    f"{name}: HPA minReplicas must exceed the PDB's minAvailable, or no pod can ever be evicted")


def check_network_policy(f: Failures, name: str, dep: dict, objs: dict) -> None:
    pols = [o for (k, _), o in objs.items() if k == "NetworkPolicy"]
    if not pols:
        return
    pol = pols[0]["spec"]
    own = dep["spec"]["template"]["metadata"].get("labels", {})
    f.check(set(pol.get("policyTypes", [])) == {"Ingress", "Egress"}, f"{name} NetworkPolicy: policyTypes must be Ingress and Egress")
    ports = set()
    for i, rule in enumerate(pol.get("egress", [])):
        f.check(bool(rule.get("to")), f"{name} NetworkPolicy egress[{i}]: no `to`, so it allows every destination")
        f.check(bool(rule.get("ports")), f"{name} NetworkPolicy egress[{i}]: no `ports`, so it allows every port")
        for peer in rule.get("to", []):
            sel = peer.get("podSelector", {}).get("matchLabels", {})
            f.check(not (sel and selects(sel, own)), f"{name} NetworkPolicy egress[{i}]: a peer selector {sel} selects plue-mcp itself")
        ports |= {p["port"] for p in rule.get("ports", [])}
    f.check(53 in ports, f"{name} NetworkPolicy: egress must allow DNS (port 53)")
    env = dep["spec"]["template"]["spec"]["containers"][0].get("env", [])
    wanted = {e["name"]: urlparse(e["value"]) for e in env if e["name"].endswith("_URL") and "value" in e}
    wanted = {k: u.port or {"http": 80, "https": 443}[u.scheme] for k, u in wanted.items()}
    if any(e["name"] == "DATABASE_URL" for e in env):
        wanted["DATABASE_URL"] = POSTGRES_PORT
    for var, port in sorted(wanted.items()):
        f.check(port in ports, f"{name} NetworkPolicy: no egress rule for {var}'s port {port}")


def main() -> None:
    version, out_dir = sys.argv[1], Path(sys.argv[2])
    f = Failures("kubernetes")
    kube = DEPLOY / "kubernetes"
    dirs = [kube / "base"] + sorted(p for p in (kube / "overlays").iterdir() if p.is_dir())
    for kdir in dirs:
        name = str(kdir.relative_to(kube))
        out = out_dir / f"{name.replace('/', '-')}.yaml"
        docs = render(f, kdir, out)
        if not docs:
            continue
        validate(f, version, out, name)
        objs = {(d["kind"], d["metadata"]["name"]): d for d in docs}
        deps = [d for d in docs if d["kind"] == "Deployment"]
        if not f.check(len(deps) == 1, f"{name}: expected one Deployment, found {len(deps)}"):
            continue
        check_deployment(f, name, deps[0], objs)
        check_selectors(f, name, deps[0], objs)
        check_network_policy(f, name, deps[0], objs)
    f.finish(f"{', '.join(str(d.relative_to(kube)) for d in dirs)} render and pass kubernetes-validate {version} --strict")


if __name__ == "__main__":
    main()
