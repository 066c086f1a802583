"""The Python example plugin `slo`: multi-window SLO burn rates from Prometheus.

`slo_burn_rate` reads a job's error and request rates from the granted endpoint
`prometheus` over several windows and reports how fast the error budget of an
objective burns (the multi-window, multi-burn-rate alerts of the Google SRE
workbook). The same report is the prompt `slo-report` and the resources
`plue://slo/{job}` (one per job with traffic), and `job` completes from Prometheus. `echo` is the Rust example plugin's tool in Python, so the languages
can be measured side by side (host/benches/languages.rs); `stress` misbehaves on
purpose, for the time and memory limit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from plue_plugin import (
    Answer,
    Briefing,
    Completing,
    Contents,
    Endpoint,
    InvalidArguments,
    Link,
    Plugin,
    PromptArgs,
    ToolError,
    Vars,
    desc,
    expand,
    log,
    setting,
)

plugin = (
    Plugin("slo", "0.2.0", "SLO burn rates from Prometheus, written in Python: how fast a job spends its error budget.")
    .http("prometheus")
    .setting("requests_metric", "plue_http_requests_total", "Counter of requests, with a `job` label.")
    .setting("error_matcher", 'status=~"5.."', "Label matcher that selects failed requests of `requests_metric`.")
    .setting("objective", "0.999", "Availability objective of the `slo-report` prompt (when none is given) and of the `plue://slo/{job}` resources.")
)

SLO_URI = "plue://slo/{job}"


@dataclass
class Window:
    long: str = field(metadata=desc("Long window, a Prometheus duration such as 1h.", pattern=r"^[0-9]+[smhd]$"))
    short: str = field(metadata=desc("Short window that confirms the burn is still going on, such as 5m.", pattern=r"^[0-9]+[smhd]$"))
    threshold: float = field(metadata=desc("Burn rate at or above which both windows must be to fire.", exclusiveMinimum=0))


# The SRE workbook's page-worthy pairs: 2% of a 30-day budget in 1 hour, 5% in 6 hours.
DEFAULT_WINDOWS = [Window("1h", "5m", 14.4), Window("6h", "30m", 6.0)]


@dataclass
class BurnArgs:
    job: str = field(metadata=desc("Prometheus `job` label of the service, e.g. plue-api.", minLength=1))
    objective: float = field(metadata=desc("Availability objective as a fraction, e.g. 0.999 for 99.9%.", exclusiveMinimum=0, exclusiveMaximum=1))
    windows: list[Window] = field(default_factory=lambda: list(DEFAULT_WINDOWS), metadata=desc("Window pairs to evaluate.", minItems=1, maxItems=6))
    endpoint: str = field(default="prometheus", metadata=desc("Name of the granted Prometheus endpoint."))


@dataclass
class WindowBurn:
    long: str
    short: str
    threshold: float
    long_burn_rate: float
    short_burn_rate: float
    long_error_ratio: float
    firing: bool


@dataclass
class BurnReport:
    job: str
    objective: float
    error_budget: float
    firing: bool
    windows: list[WindowBurn]


def _rate(prom: Endpoint, matchers: str, window: str) -> float:
    """sum(rate(metric{matchers}[window])) as a number; 0 when nothing matches."""
    metric = setting("requests_metric") or "plue_http_requests_total"
    query = f"sum(rate({metric}{{{matchers}}}[{window}]))"
    body = prom.get_json("/api/v1/query", [("query", query)])
    if body.get("status") != "success":
        raise ToolError(f"Prometheus refused `{query}`: {body.get('error', body)}")
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def _error_ratio(prom: Endpoint, job: str, window: str) -> tuple[float, float]:
    """(error ratio, request rate per second) of `job` over `window`."""
    job_matcher = 'job="' + job.replace("\\", "\\\\").replace('"', '\\"') + '"'
    error_matcher = setting("error_matcher") or 'status=~"5.."'
    errors = _rate(prom, f"{job_matcher},{error_matcher}", window)
    requests = _rate(prom, job_matcher, window)
    return (errors / requests if requests > 0 else 0.0), requests


@plugin.tool(title="SLO burn rate", output=BurnReport, read_only=True, open_world=True)
def slo_burn_rate(args: BurnArgs) -> Answer:
    """Multi-window burn rate of a job's error budget against an availability objective.

    For each (long, short) window pair, the error ratio divided by the budget (1 - objective);
    a pair fires when both windows burn at or above its threshold. Defaults: 1h/5m at 14.4 and 6h/30m at 6 (page-worthy burns of a
    30-day budget). Windows longer than the data Prometheus holds under-report."""
    text, report = _report(Endpoint(args.endpoint), args.job, args.objective, args.windows)
    return Answer(text, report)


def _report(prom: Endpoint, job: str, objective: float, windows: list[Window]) -> tuple[str, BurnReport]:
    """The burn of `job`'s budget over each window pair: (text, report), firing pairs first."""
    budget = 1.0 - objective
    rows = []
    traffic = 0.0
    for w in windows:
        long_ratio, long_requests = _error_ratio(prom, job, w.long)
        short_ratio, _ = _error_ratio(prom, job, w.short)
        traffic = max(traffic, long_requests)
        long_burn, short_burn = long_ratio / budget, short_ratio / budget
        rows.append(WindowBurn(w.long, w.short, w.threshold, round(long_burn, 4), round(short_burn, 4),
                               round(long_ratio, 6), long_burn >= w.threshold and short_burn >= w.threshold))
    if traffic == 0.0:
        raise InvalidArguments(f"job `{job}` has no requests in any window: check the job label (see Prometheus' /api/v1/label/job/values)")
    rows.sort(key=lambda r: (not r.firing, -r.long_burn_rate))
    firing = any(r.firing for r in rows)
    log("info", f"burn rates of {job} over {len(rows)} window pair(s)")
    lines = [f"{job}: {'FIRING' if firing else 'ok'} against {objective * 100:g}% (error budget {budget * 100:.4g}% of requests)"]
    for r in rows:
        lines.append(f"- {r.long}/{r.short}: burn {r.long_burn_rate:g}x / {r.short_burn_rate:g}x, threshold {r.threshold:g}x"
                     f"{' -> firing' if r.firing else ''} (error ratio {r.long_error_ratio * 100:.4g}% over {r.long})")
    return "\n".join(lines), BurnReport(job, objective, round(budget, 10), firing, rows)


def _jobs(prom: Endpoint) -> list[str]:
    """The jobs with series of `requests_metric`, sorted."""
    metric = setting("requests_metric") or "plue_http_requests_total"
    body = prom.get_json("/api/v1/label/job/values", [("match[]", metric)])
    return sorted(body.get("data") or [])


def _objective(text: str | None) -> float:
    """An objective given as text (a prompt argument or the setting), checked."""
    text = text or setting("objective") or "0.999"
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise InvalidArguments(f"objective `{text}` is not a fraction between 0 and 1, e.g. 0.999 for 99.9%")
    return value


def _markdown(report: BurnReport) -> str:
    lines = [
        f"# SLO of {report.job}: {'FIRING' if report.firing else 'ok'}",
        "",
        f"Objective {report.objective * 100:g}%, error budget {report.error_budget * 100:.4g}% of requests.",
        "",
        "| windows | long burn | short burn | threshold | firing | error ratio (long) |",
        "|---|---|---|---|---|---|",
    ]
    for r in report.windows:
        lines.append(f"| {r.long}/{r.short} | {r.long_burn_rate:g}x | {r.short_burn_rate:g}x | {r.threshold:g}x | "
                     f"{'yes' if r.firing else 'no'} | {r.long_error_ratio * 100:.4g}% |")
    return "\n".join(lines) + "\n"


@plugin.prompt("slo-report", title="SLO report", required=["job"], arguments={
    "job": "Prometheus `job` label of the service, e.g. plue-api (completes from Prometheus).",
    "objective": "Availability objective as a fraction, e.g. 0.999 (default: the `objective` setting, 0.999).",
})
def slo_report(args: PromptArgs) -> Briefing:
    """How fast a job burns its error budget now, over the SRE workbook's page-worthy windows, and what to do next."""
    job = args.required("job")
    objective = _objective(args.get("objective"))
    text, report = _report(Endpoint("prometheus"), job, objective, DEFAULT_WINDOWS)
    next_step = ("Next: find the failing requests (prometheus_query on the error matcher by path), then the logs."
                 if report.firing else "Next: nothing pages; call slo_burn_rate with longer windows to watch slow burns.")
    return (
        Briefing.text(f"## SLO of {job}\n{text}")
        .described(f"{job} against {objective * 100:g}%")
        .with_link(Link(expand(SLO_URI, job=job), f"slo-{job}", title=f"SLO of {job}", mime_type="text/markdown"))
        .with_text(next_step)
    )


@plugin.resources(SLO_URI, "slo", title="SLO of a job", mime_type="text/markdown")
def slo_page(vars: Vars) -> list[Contents]:
    """A job's burn rates against the `objective` setting (markdown table, one row per window pair)."""
    job = vars.get("job")
    _, report = _report(Endpoint("prometheus"), job, _objective(None), DEFAULT_WINDOWS)
    return [Contents.text(vars.uri, "text/markdown", _markdown(report))]


@slo_page.list
def slo_pages() -> list[Link]:
    return [Link(expand(SLO_URI, job=j), f"slo-{j}", title=f"SLO of {j}", mime_type="text/markdown")
            for j in _jobs(Endpoint("prometheus"))]


@plugin.completion("job")
def complete_job(c: Completing) -> list[str]:
    return c.filter(_jobs(Endpoint("prometheus")))


@plugin.tool(title="Echo", read_only=True)
def echo(text: Annotated[str, desc("Text to send back.")],
         times: Annotated[int, desc("How many times to repeat it (1 to 10).", minimum=1, maximum=10)] = 1) -> Answer:
    """Send the text back, repeated `times` times."""
    log("info", f"echoing {len(text)} character(s) {times} time(s)")
    return Answer(" ".join([text] * times), {"text": text, "times": times})


@plugin.tool()
def stress(mode: Annotated[Literal["spin", "allocate"], desc("spin: loop forever; allocate: grow memory without bound.")]) -> Answer:
    """Misbehave on purpose, to see the host's time and memory limits stop the call."""
    if mode == "spin":
        n = 0
        while True:
            n += 1
    hoard = []
    while True:
        hoard.append(bytearray(1 << 20))


Tools, Prompts, Resources, Completions = plugin.exports()
