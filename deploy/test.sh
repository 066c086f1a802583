#!/usr/bin/env bash
# Validates everything in deploy/ with the real tools, in about 50 s (plue-mcp's compile cache
# warm, as the e2e phase leaves it; a cold one adds the plugins' compilation once):
#   1. promtool: check config, check rules, and the rule unit tests in prometheus/tests/;
#   2. Prometheus itself starts with prometheus/prometheus.yml on a free loopback port and
#      loads every rule group, and every scrape target gets a `service` label;
#   3. Loki: -verify-config, then the real server starts with loki/loki.yml on free loopback
#      ports and answers /ready;
#   4. Grafana: provisioning YAML parses; every dashboard JSON parses and has the fields
#      Grafana needs (uid, title, schemaVersion, panels with ids, gridPos and a datasource
#      whose uid is a provisioned one);
#   5. every dashboard query runs: PromQL against that Prometheus (must parse), LogQL against
#      that Loki after pushing sample lines labelled as the shippers label them, SQL as the
#      read-only role against a PostgreSQL loaded with tests/fixtures/plue (both must parse
#      and return data); the Promtail config parses and sets the labels the logs tools read;
#   6. Compose: compose.yaml against the Compose specification's schema, env.example, the
#      Dockerfile parsed by Docker's parser and linted by hadolint (tests/compose_check.py);
#   7. Kubernetes: the kustomize base and overlays rendered by kubectl and validated by
#      kubernetes-validate against Kubernetes $KUBERNETES_VERSION (tests/kube_check.py);
#   8. plue-mcp started as compose.yaml, each Kubernetes rendering and each agent file in
#      agents/ describe it, against the real backends above (tests/servers_check.py).
# Loki comes from $LOKI_BIN, `loki` on PATH, or ../shared/tools/install-loki (into
# target/loki/), as the e2e suite finds it; plue-mcp from $PLUE_MCP_BIN or target/debug/plue-mcp
# (CI builds it first), with the e2e suite's compile cache beside it. Any failure prints what
# broke and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
deploy=$root/deploy

fail() { echo "deploy/test.sh: FAILED: $*" >&2; exit 1; }
step() { echo "== [${SECONDS}s] $*"; }

for tool in promtool prometheus python3 curl check-jsonschema kubernetes-validate kubectl hadolint; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (bash .ci/install-deps installs it)"
done
python3 -c 'import dockerfile, mcp, yaml' 2>/dev/null ||
  fail "python3 lacks dockerfile, mcp or yaml (bash .ci/install-deps installs them)"
plue_mcp=${PLUE_MCP_BIN:-$root/target/debug/plue-mcp}
[[ -x $plue_mcp ]] || fail "no plue-mcp at $plue_mcp: build it first (cargo build -p plue-mcp) or set PLUE_MCP_BIN"
# The e2e suite's compile cache (tests/src/mcp.rs cache_dir): warm after its phase.
export PLUE_MCP_CACHE_DIR=${PLUE_MCP_CACHE_DIR:-$(dirname "$plue_mcp")/plue-mcp-test-cache}
mkdir -p "$PLUE_MCP_CACHE_DIR"
# The Kubernetes version the manifests are validated against (kubernetes-validate's schemas).
KUBERNETES_VERSION=${KUBERNETES_VERSION:-1.37.0}
# Host features the deploy files use that a branch is still adding to plue-mcp (none now:
# `stateless`, `auth`). tests/servers_check.py checks each one the binary has; one listed
# here and missing is reported as NOT CHECKED instead of failing.
export PLUE_DEPLOY_PENDING=${PLUE_DEPLOY_PENDING-""}

tmp=$(mktemp -d -t plue-deploy-test.XXXXXX)
pids=()
pg_started=
cleanup() {
  if [[ -n $pg_started ]]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" stop -m immediate -D "$tmp/pg/data" >/dev/null 2>&1 || true
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_ready NAME URL LOG PID: polls URL for up to 30 s; on failure shows the server's log.
wait_ready() {
  local name=$1 url=$2 log=$3 pid=$4
  for _ in $(seq 120); do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; fail "$name exited before it was ready"; }
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.25
  done
  tail -20 "$log" >&2
  fail "$name did not answer $url within 30 s"
}

# ---- 1. promtool ----
step "promtool check config"
promtool check config "$deploy/prometheus/prometheus.yml" || fail "promtool check config deploy/prometheus/prometheus.yml"
step "promtool check rules"
promtool check rules "$deploy"/prometheus/rules/*.yml || fail "promtool check rules deploy/prometheus/rules/"
step "promtool test rules"
promtool test rules "$deploy"/prometheus/tests/*.yml || fail "promtool test rules deploy/prometheus/tests/ (see the diff above)"

# ---- 2. Prometheus loads the config and every rule group ----
step "prometheus starts with deploy/prometheus/prometheus.yml"
prom_port=$(free_port)
prometheus --config.file="$deploy/prometheus/prometheus.yml" \
  --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.path="$tmp/prometheus" \
  --log.level=warn >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
wait_ready prometheus "http://127.0.0.1:$prom_port/-/ready" "$tmp/prometheus.log" "${pids[-1]}"

# ---- 3. Loki ----
loki=${LOKI_BIN:-}
if [[ -z $loki ]]; then
  loki=$(command -v loki || true)
fi
if [[ -z $loki ]]; then
  [[ -f ../shared/tools/install-loki ]] ||
    fail "no Loki: set LOKI_BIN, put loki on PATH, or provide ../shared/tools/install-loki"
  loki=$(bash ../shared/tools/install-loki "$root/target/loki") || fail "../shared/tools/install-loki"
fi
[[ -x $loki ]] || fail "Loki binary $loki is not executable"
step "loki -verify-config ($("$loki" -version 2>&1 | head -1))"
"$loki" -verify-config -config.expand-env=true -config.file "$deploy/loki/loki.yml" ||
  fail "loki -verify-config rejects deploy/loki/loki.yml"
step "loki starts with deploy/loki/loki.yml"
loki_http=$(free_port)
loki_grpc=$(free_port)
LOKI_LISTEN_ADDRESS=127.0.0.1 LOKI_HTTP_PORT=$loki_http LOKI_GRPC_PORT=$loki_grpc \
  LOKI_DATA_DIR="$tmp/loki" LOKI_LOG_LEVEL=warn \
  "$loki" -config.expand-env=true -config.file "$deploy/loki/loki.yml" >"$tmp/loki.log" 2>&1 &
pids+=($!)
wait_ready loki "http://127.0.0.1:$loki_http/ready" "$tmp/loki.log" "${pids[-1]}"

# ---- PostgreSQL with Plue's schema and the test suite's data, for the SQL panels ----
step "postgresql with tests/fixtures/plue (schema.sql, data.sql)"
initdb=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 || true)
[[ -n $initdb ]] || fail "no PostgreSQL: initdb not found (bash .ci/install-deps installs postgresql)"
pg_bin=$(dirname "$initdb")
psql=$(command -v psql || echo "$pg_bin/psql")
as_pg=()
mkdir -p "$tmp/pg"
if [[ $(id -u) == 0 ]]; then
  # The PostgreSQL server refuses to run as root.
  as_pg=(runuser -u postgres --)
  chmod 755 "$tmp"
  chown postgres "$tmp/pg"
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$tmp/pg/data" -U postgres --auth=trust -E UTF8 >"$tmp/initdb.log" 2>&1 ||
  { tail -20 "$tmp/initdb.log" >&2; fail "initdb"; }
pg_port=$(free_port)
"${as_pg[@]}" "$pg_bin/pg_ctl" start -w -t 30 -D "$tmp/pg/data" -l "$tmp/pg/server.log" \
  -o "-p $pg_port -k $tmp/pg -c listen_addresses=127.0.0.1 -c TimeZone=UTC" >/dev/null ||
  { tail -20 "$tmp/pg/server.log" >&2; fail "pg_ctl start"; }
pg_started=1
pg_sql() { "$psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg" -p "$pg_port" -U postgres "$@"; }
pg_sql -d postgres -c "CREATE DATABASE plue" >/dev/null || fail "create database plue"
pg_sql -d plue -f tests/fixtures/plue/schema.sql -f tests/fixtures/plue/data.sql >/dev/null ||
  fail "load tests/fixtures/plue/schema.sql and data.sql"
# The read-only role, by the script the Compose stack's postgres runs on its first start (twice:
# it must be safe to re-run).
for _ in 1 2; do
  PATH="$pg_bin:$PATH" PGOPTIONS="-c client_min_messages=warning" PGHOST="$tmp/pg" PGPORT=$pg_port POSTGRES_USER=postgres POSTGRES_DB=plue \
    PLUE_READER_PASSWORD=$(sed -n 's/^PLUE_READER_PASSWORD=//p' "$deploy/env.example") \
    bash "$deploy/postgres/initdb/10-plue-reader.sh" || fail "deploy/postgres/initdb/10-plue-reader.sh"
done

# ---- 4. and 5. Grafana files, dashboard queries, shipper labels ----
step "grafana provisioning, dashboards and their queries"
python3 - "$deploy" "http://127.0.0.1:$prom_port" "http://127.0.0.1:$loki_http" \
  "$psql" "$tmp/pg" "$pg_port" <<'PY' ||
import json, pathlib, re, subprocess, sys, time, urllib.error, urllib.parse, urllib.request
import yaml

deploy, prom, loki = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
psql, pg_host, pg_port = sys.argv[4], sys.argv[5], sys.argv[6]
errors = []

def load_yaml(path):
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        errors.append(f"{path.relative_to(deploy)}: not YAML: {e}")
        return {}

def http(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

# Prometheus loaded every rule group of rules/*.yml.
want_groups = set()
for f in sorted((deploy / "prometheus/rules").glob("*.yml")):
    want_groups |= {g["name"] for g in load_yaml(f)["groups"]}
_, body = http(f"{prom}/api/v1/rules")
got_groups = {g["name"] for g in json.loads(body)["data"]["groups"]}
if want_groups != got_groups:
    errors.append(f"prometheus loaded rule groups {sorted(got_groups)}, expected {sorted(want_groups)}")

# Every scrape target carries a `service` label (the relabelling in prometheus.yml).
want_jobs = {sc["job_name"] for sc in load_yaml(deploy / "prometheus/prometheus.yml")["scrape_configs"]}
for _ in range(40):
    _, body = http(f"{prom}/api/v1/targets")
    active = json.loads(body)["data"]["activeTargets"]
    if {t["labels"]["job"] for t in active} == want_jobs:
        break
    time.sleep(0.25)
else:
    errors.append(f"prometheus has targets of jobs {sorted({t['labels']['job'] for t in active})}, expected {sorted(want_jobs)}")
for t in active:
    if not t["labels"].get("service"):
        errors.append(f"target {t['scrapeUrl']} has no service label: {t['labels']}")
services = sorted(t["labels"].get("service", "") for t in active)

# Provisioned data sources, and the provider's path.
ds = load_yaml(deploy / "grafana/provisioning/datasources/datasources.yml")
uids = {d["uid"]: d["type"] for d in ds.get("datasources", [])}
if sorted(uids.values()) != ["grafana-postgresql-datasource", "loki", "prometheus"]:
    errors.append(f"datasources.yml provisions {uids}, expected one prometheus, loki and postgresql each")
providers = load_yaml(deploy / "grafana/provisioning/dashboards/dashboards.yml").get("providers", [])
if not providers or not all(p.get("options", {}).get("path") for p in providers):
    errors.append("dashboards.yml: every provider needs options.path")

# Sample log lines as the shippers label them, so every LogQL query must return data.
now = time.time_ns()
streams = [
    ({"job": "containerlogs", "service": "api", "level": "error", "container": "plue-api-1", "stream": "stderr"},
     ['{"level":"error","msg":"workflow run 42 failed: step test exited with 1"}',
      '{"level":"error","msg":"database error: connection refused"}']),
    ({"job": "containerlogs", "service": "plue-mcp", "level": "warn", "container": "plue-plue-mcp-1", "stream": "stderr"},
     ['2026-01-01T00:00:00Z  WARN plue_mcp::audit: call failed: backend unreachable, error: timeout']),
]
push = {"streams": [{"stream": labels, "values": [[str(now - 1_000_000_000 * (len(lines) - i)), line] for i, line in enumerate(lines)]}
                    for labels, lines in streams]}
status, body = http(f"{loki}/loki/api/v1/push", json.dumps(push).encode(), {"Content-Type": "application/json"})
if status != 204:
    errors.append(f"loki push answered {status}: {body[:300]}")

# Grafana's variables, as it would expand them for a 1 h range.
VARS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$service": ".*"}
def expand(expr):
    for k in sorted(VARS, key=len, reverse=True):
        expr = expr.replace(k, VARS[k])
    if re.search(r"\$\w", expr):
        errors.append(f"unknown Grafana variable in {expr!r}")
    return expr

def run_prom(where, expr):
    status, body = http(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    if status != 200 or json.loads(body).get("status") != "success":
        errors.append(f"{where}: PromQL does not run: {expr}\n    {body[:300]}")

def run_loki(where, expr):
    q = {"query": expr, "start": str(now - 3600 * 10**9), "end": str(now + 60 * 10**9), "step": "60", "limit": "100"}
    for _ in range(20):  # ingested lines become queryable within a moment
        status, body = http(f"{loki}/loki/api/v1/query_range?" + urllib.parse.urlencode(q))
        if status != 200:
            errors.append(f"{where}: LogQL does not run: {expr}\n    {body[:300]}")
            return
        if json.loads(body)["data"]["result"]:
            return
        time.sleep(0.25)
    errors.append(f"{where}: LogQL returns no data for the sample lines: {expr}")

# SQL as Grafana would send it for a 24 h range, as the read-only role; must return rows.
def run_sql(where, query):
    query = re.sub(r"\$__timeFilter\(([^)]+)\)", r"\1 BETWEEN now() - interval '24 hours' AND now()", query)
    if re.search(r"\$\w", query):
        errors.append(f"{where}: unknown Grafana macro in {query!r}")
        return
    out = subprocess.run([psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", pg_host, "-p", pg_port,
                          "-U", "plue_reader", "-d", "plue", "-c", query], capture_output=True, text=True)
    if out.returncode != 0:
        errors.append(f"{where}: SQL does not run: {query}\n    {out.stderr.strip()[:300]}")
    elif not out.stdout.strip():
        errors.append(f"{where}: SQL returns no rows for the fixture data: {query}")

dashboards = sorted((deploy / "grafana/dashboards").glob("*.json"))
if {d.name for d in dashboards} < {"plue-overview.json", "workflows.json"}:
    errors.append(f"missing dashboards: found {[d.name for d in dashboards]}")
seen_uids = set()
queries = 0
for path in dashboards:
    name = path.name
    try:
        dash = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        errors.append(f"{name}: not JSON: {e}")
        continue
    for field in ("uid", "title", "schemaVersion", "panels"):
        if field not in dash:
            errors.append(f"{name}: no {field}")
    if dash.get("uid") in seen_uids:
        errors.append(f"{name}: uid {dash.get('uid')} used twice")
    seen_uids.add(dash.get("uid"))
    ids = [p.get("id") for p in dash.get("panels", [])]
    if len(set(ids)) != len(ids) or None in ids:
        errors.append(f"{name}: panel ids missing or repeated: {ids}")
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            run_prom(f"{name} variable {v['name']}", re.sub(r"label_values\((\w+), *\w+\)", r"\1", v["definition"]))
    for p in dash.get("panels", []):
        where = f"{name} panel {p.get('id')} {p.get('title')!r}"
        if not all(k in p.get("gridPos", {}) for k in "xywh"):
            errors.append(f"{where}: gridPos needs x, y, w, h")
        if not p.get("targets"):
            errors.append(f"{where}: no queries")
        for t in p.get("targets", []):
            ref = t.get("datasource") or p.get("datasource") or {}
            kind = uids.get(ref.get("uid"))
            if kind is None or kind != ref.get("type"):
                errors.append(f"{where}: datasource {ref} is not a provisioned one {uids}")
                continue
            queries += 1
            if kind == "grafana-postgresql-datasource":
                run_sql(f"{where} {t.get('refId')}", t["rawSql"])
            else:
                (run_prom if kind == "prometheus" else run_loki)(f"{where} {t.get('refId')}", expand(t["expr"]))

# The Promtail config (Alloy has no binary here: see deploy/README.md) sets the labels the
# logs tools select.
pt = load_yaml(deploy / "promtail/promtail.yml")
targets = {r.get("target_label") for sc in pt.get("scrape_configs", []) for r in sc.get("relabel_configs", [])}
if not {"job", "service"} <= targets:
    errors.append(f"promtail.yml relabels into {targets}, expected job and service")
alloy = (deploy / "alloy/config.alloy").read_text()
for needle in ('replacement  = "containerlogs"', 'target_label  = "service"', 'level = ""'):
    if needle not in alloy:
        errors.append(f"alloy/config.alloy lacks {needle!r}")

if errors:
    print("\n".join(f"  - {e}" for e in errors), file=sys.stderr)
    sys.exit(1)
print(f"  services {services}\n  {len(dashboards)} dashboards, {queries} queries run; rule groups {sorted(got_groups)}")
PY
  fail "grafana provisioning/dashboards (see the list above)"

# ---- 6. Compose and the Dockerfile ----
step "compose.yaml (Compose specification schema), env.example, Dockerfile (parser, hadolint)"
python3 "$deploy/tests/compose_check.py" || fail "deploy/compose.yaml, env.example or Dockerfile (see the list above)"

# ---- 7. Kubernetes ----
step "kubernetes/ rendered by $(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: /kustomize /p'), kubernetes-validate $KUBERNETES_VERSION"
mkdir -p "$tmp/kube"
python3 "$deploy/tests/kube_check.py" "$KUBERNETES_VERSION" "$tmp/kube" || fail "deploy/kubernetes (see the list above)"

# ---- 8. plue-mcp as Compose, Kubernetes and the agents' files start it ----
step "plue-mcp as compose.yaml, kubernetes/ and agents/ run it ($plue_mcp)"
python3 "$deploy/tests/servers_check.py" "$plue_mcp" "http://127.0.0.1:$prom_port" "http://127.0.0.1:$loki_http" \
  "$pg_port" "$tmp/kube" || fail "plue-mcp as deploy/ runs it (see the list above)"

echo "deploy/test.sh: OK in ${SECONDS} s"
