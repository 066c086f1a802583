// The JavaScript example plugin `flaky`: which Playwright tests pass only on retry.
//
// `flaky_trend` reads every Playwright JSON report under its granted directory
// `reports` and ranks tests by how many runs they were flaky in (failed, then
// passed on a retry). `echo` is the Rust example plugin's tool in JavaScript, so
// the languages can be measured side by side (host/benches/languages.rs);
// `stress` misbehaves on purpose, for the time and memory limit tests. The prompt
// `flaky-brief` ranks them for a user, each flaky test is the resource
// `plue://flaky/{+test}` (its history run by run), and `test` completes from the reports.

import {
  Briefing,
  Contents,
  Directory,
  InvalidArguments,
  Link,
  Plugin,
  ToolError,
  expand,
  log,
  setting,
  t,
} from "./plue-plugin.js";

export const plugin = new Plugin(
  "flaky",
  "0.2.0",
  "Flaky Playwright tests across runs, written in JavaScript: which tests pass only on retry, and how often.",
)
  .directory("reports")
  .setting("max_reports", "50", "Most reports read per call (newest first by start time).");

const MAX_FILES = 2000;

/** Each test's outcome in one report: key → { file, title, project, status, retries }. */
function outcomes(report) {
  const out = [];
  const walk = (suite, titles) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests ?? []) {
        const title = [...titles, spec.title].filter(Boolean).join(" › ");
        out.push({
          key: `${spec.file ?? suite.file ?? ""} › ${title} [${test.projectName ?? ""}]`,
          file: spec.file ?? suite.file ?? "",
          title,
          project: test.projectName ?? "",
          status: test.status,
          retries: Math.max(0, (test.results ?? []).length - 1),
        });
      }
    }
    for (const child of suite.suites ?? []) walk(child, [...titles, child.title]);
  };
  for (const suite of report.suites ?? []) walk(suite, []);
  return out;
}

function isReport(value) {
  return value && Array.isArray(value.suites) && value.stats && typeof value.stats === "object";
}

const testRow = t.object({
  test: t.string("File › describe › title [project]."),
  project: t.string("Playwright project."),
  runs: t.integer("Reports the test ran in (not skipped)."),
  flaky_runs: t.integer("Runs in which it failed first and passed on a retry."),
  failed_runs: t.integer("Runs in which it failed every attempt."),
  flaky_rate: t.number("flaky_runs / runs."),
  history: t.array(t.string("expected, flaky, unexpected or skipped"), "Its status in each report, oldest first."),
});

plugin.tool(
  {
    name: "flaky_trend",
    title: "Flaky test trend",
    description:
      "Rank Playwright tests by how often they passed only on retry (status `flaky`) across the JSON reports " +
      "under the granted `reports` directory, oldest to newest by start time. Each row: runs, flaky runs, runs " +
      "failed outright, and the status per run. Use it to pick which flaky test to fix first.",
    readOnly: true,
    args: {
      path: t.string("Folder under the reports directory to search, relative (default: all of it).").optional(""),
      project: t.string("Only this Playwright project, e.g. chromium-desktop.").optional(),
      limit: t.integer("Most tests to list.", { minimum: 1, maximum: 100 }).optional(10),
    },
    output: t.object({
      reports: t.integer("Reports read."),
      tests_seen: t.integer("Distinct tests (per project) in them."),
      flaky_tests: t.integer("Tests flaky in at least one run."),
      cut: t.boolean("More flaky tests than `limit`, or more reports/files than read."),
      tests: t.array(testRow, "Flaky tests, most flaky runs first."),
    }),
  },
  ({ path, project, limit }) => {
    const { reports, used, cutReports, maxReports, walked, tests } = collect(path, project);
    const flaky = ranked(tests);
    const shown = flaky.slice(0, limit).map(({ attempts, ...row }) => row);
    const cut = flaky.length > shown.length || cutReports || walked.cut;

    const lines = [`${flaky.length} of ${tests.size} test(s) passed only on retry in at least one of ${used.length} report(s) (oldest first: ${used.map((r) => r.file).join(", ")}).`];
    for (const r of shown) lines.push(`- ${summary(r)}`);
    if (cut) {
      lines.push(`(cut: ${flaky.length - shown.length} more flaky test(s) beyond limit ${limit}${cutReports ? `; only the newest ${maxReports} of ${reports.length} reports (max_reports)` : ""}${walked.cut ? `; stopped after ${MAX_FILES} files` : ""})`);
    }
    return {
      text: lines.join("\n"),
      structured: { reports: used.length, tests_seen: tests.size, flaky_tests: flaky.length, cut, tests: shown },
    };
  },
);

/** The reports under `path` (oldest first, at most `max_reports`) and each test's row in them. */
function collect(path = "", project) {
  if (path.startsWith("/")) throw new InvalidArguments("`path` must be relative to the reports directory, e.g. runs");
  const dir = new Directory("reports");
  const walked = dir.walk(path, MAX_FILES);
  const maxReports = Number(setting("max_reports") ?? 50);
  const reports = [];
  for (const file of walked.files.filter((f) => f.endsWith(".json"))) {
    let value;
    try {
      value = dir.readJson(file);
    } catch (e) {
      if (e instanceof ToolError) continue; // not JSON: not a report
      throw e;
    }
    if (isReport(value)) reports.push({ file, start: String(value.stats.startTime ?? ""), value });
  }
  if (!reports.length) {
    throw new ToolError(`no Playwright JSON report under \`${path || "."}\` of the reports directory (looked at ${walked.files.length} file(s)); point \`path\` at the folder holding results.json`);
  }
  reports.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.file.localeCompare(b.file)));
  const cutReports = reports.length > maxReports;
  const used = reports.slice(-maxReports);

  const tests = new Map();
  used.forEach((report, run) => {
    for (const o of outcomes(report.value)) {
      if (project && o.project !== project) continue;
      const row = tests.get(o.key) ?? {
        test: o.key,
        project: o.project,
        runs: 0,
        flaky_runs: 0,
        failed_runs: 0,
        history: Array(used.length).fill("absent"),
        attempts: Array(used.length).fill(0),
      };
      row.history[run] = o.status;
      row.attempts[run] = o.retries + 1;
      if (o.status !== "skipped") row.runs += 1;
      if (o.status === "flaky") row.flaky_runs += 1;
      if (o.status === "unexpected") row.failed_runs += 1;
      tests.set(o.key, row);
    }
  });
  log("info", `read ${used.length} report(s), ${tests.size} test(s)`);
  return { reports, used, cutReports, maxReports, walked, tests };
}

/** The tests flaky in at least one run, most flaky runs first, with their rate. */
function ranked(tests) {
  return [...tests.values()]
    .filter((r) => r.flaky_runs > 0)
    .map((r) => ({ ...r, flaky_rate: Math.round((r.flaky_runs / r.runs) * 1000) / 1000 }))
    .sort((a, b) => b.flaky_runs - a.flaky_runs || b.flaky_rate - a.flaky_rate || a.test.localeCompare(b.test));
}

function summary(r) {
  return `${r.test}: flaky in ${r.flaky_runs}/${r.runs} run(s) (${Math.round(r.flaky_rate * 100)}%), failed outright in ${r.failed_runs}; history ${r.history.join(", ")}`;
}

const TEST_URI = "plue://flaky/{+test}";
const BRIEF_TESTS = 5;

function testLink(r) {
  return new Link(expand(TEST_URI, { test: r.test }), r.test, {
    title: `Flaky history of ${r.test}`,
    mimeType: "text/markdown",
  });
}

plugin.prompt(
  {
    name: "flaky-brief",
    title: "Flaky tests",
    description: "The Playwright tests that pass only on retry across the reports, most flaky first, with links to each one's history.",
    arguments: {
      project: "Only this Playwright project, e.g. chromium-desktop (default: all).",
      test: "One test to detail (file › title [project], completes from the reports).",
    },
  },
  (args) => {
    const { used, tests } = collect("", args.get("project"));
    const flaky = ranked(tests);
    const wanted = args.get("test");
    if (wanted !== undefined && !tests.has(wanted)) {
      throw new InvalidArguments(`no test \`${wanted}\` in the reports; complete the \`test\` argument for the exact name`);
    }
    const shown = flaky.slice(0, BRIEF_TESTS);
    const lines = [`## Flaky tests: ${flaky.length} of ${tests.size} passed only on retry in ${used.length} report(s)`];
    lines.push(...shown.map((r) => `- ${summary(r)}`));
    if (flaky.length > shown.length) lines.push(`(${flaky.length - shown.length} more: call flaky_trend with a higher limit)`);
    let brief = Briefing.text(lines.join("\n")).described(`${flaky.length} flaky test(s) across ${used.length} report(s)`);
    if (wanted !== undefined) {
      brief = brief.withResource(Contents.text(expand(TEST_URI, { test: wanted }), "text/markdown", page(tests.get(wanted), used)));
    } else {
      for (const r of shown) brief = brief.withLink(testLink(r));
    }
    return brief.withText(
      flaky.length
        ? "Next: open the most flaky test's history; fix the first attempt's failure, not the retry."
        : "Next: nothing is flaky; flaky_trend with a `path` looks at one folder.",
    );
  },
);

/** A test's history as markdown: one row per report, oldest first. */
function page(row, used) {
  const lines = [
    `# ${row.test}`,
    "",
    `Flaky in ${row.flaky_runs} of ${row.runs} run(s), failed outright in ${row.failed_runs}.`,
    "",
    "| report | status | attempts |",
    "|---|---|---|",
  ];
  used.forEach((r, i) => lines.push(`| ${r.file} | ${row.history[i]} | ${row.attempts[i]} |`));
  return lines.join("\n") + "\n";
}

plugin.resources(
  {
    uriTemplate: TEST_URI,
    name: "flaky-test",
    title: "A test's flaky history",
    description: "One Playwright test (file › title [project]) across the reports: its status and attempts in each, oldest first (markdown).",
    mimeType: "text/markdown",
    list: () => ranked(collect().tests).map(testLink),
  },
  (vars) => {
    const test = vars.get("test");
    const { used, tests } = collect();
    if (!tests.has(test)) {
      throw new InvalidArguments(`no test \`${test}\` in the reports; list the resources or complete \`test\` for the names`);
    }
    return [Contents.text(vars.uri, "text/markdown", page(tests.get(test), used))];
  },
);

plugin.completion("test", (c) => {
  const { tests } = collect("", c.context.project);
  const flaky = ranked(tests).map((r) => r.test);
  const rest = [...tests.keys()].filter((k) => !flaky.includes(k)).sort();
  return c.filter([...flaky, ...rest]);
});

plugin.tool(
  {
    name: "echo",
    title: "Echo",
    description: "Send the text back, repeated `times` times.",
    readOnly: true,
    args: {
      text: t.string("Text to send back."),
      times: t.integer("How many times to repeat it (1 to 10).", { minimum: 1, maximum: 10 }).optional(1),
    },
  },
  ({ text, times }) => {
    log("info", `echoing ${[...text].length} character(s) ${times} time(s)`);
    return { text: Array(times).fill(text).join(" "), structured: { text, times } };
  },
);

plugin.tool(
  {
    name: "stress",
    description: "Misbehave on purpose, to see the host's time and memory limits stop the call.",
    args: { mode: t.enum(["spin", "allocate"], "spin: loop forever; allocate: grow memory without bound.") },
  },
  ({ mode }) => {
    if (mode === "spin") {
      for (let n = 0; ; n++);
    }
    const hoard = [];
    for (;;) hoard.push(new Uint8Array(1 << 20).fill(1));
  },
);
