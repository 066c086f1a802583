// Native tests of the flaky plugin on the suite's real Playwright reports:
// `node --test` in this folder (build.sh runs them).

import assert from "node:assert/strict";
import { test } from "node:test";

import { plugin } from "./app.js";
import { CapabilityError } from "./plue-plugin.js";
import { call, fakeHost } from "./plue-testing.js";

const reports = new URL("../../tests/fixtures/playwright", import.meta.url).pathname;

test("ranks the tests that passed only on retry", () => {
  fakeHost({ directories: { reports } });
  const out = call(plugin, "flaky_trend", {});
  assert.equal(out.structured.reports, 3);
  assert.equal(out.structured.tests_seen, 24);
  // `login › remembers the session` is flaky in all three runs, on both projects.
  assert.deepEqual(
    out.structured.tests.map((r) => [r.test, r.flaky_runs, r.runs]),
    [
      ["auth/login.spec.ts › login › remembers the session [chromium-desktop]", 3, 3],
      ["auth/login.spec.ts › login › remembers the session [chromium-mobile]", 3, 3],
    ],
  );
  assert.match(out.text, /^2 of 24 test\(s\) passed only on retry/);
});

test("a project filter and a path narrow the search", () => {
  fakeHost({ directories: { reports } });
  const out = call(plugin, "flaky_trend", { path: "runs", project: "chromium-mobile" });
  assert.equal(out.structured.reports, 2);
  assert.equal(out.structured.tests.length, 1);
});

test("leaving the directory or an ungranted one is refused", () => {
  fakeHost({ directories: { reports } });
  assert.throws(() => call(plugin, "flaky_trend", { path: "../.." }), CapabilityError);
  fakeHost({ directories: {} });
  assert.throws(() => call(plugin, "flaky_trend", {}), /directory `reports` is not granted/);
});

test("echo repeats and logs", () => {
  const { logs } = fakeHost();
  assert.equal(call(plugin, "echo", { text: "hi", times: 3 }).text, "hi hi hi");
  assert.deepEqual(logs, [["info", "echoing 2 character(s) 3 time(s)"]]);
});
