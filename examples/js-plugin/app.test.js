// Native tests of the flaky plugin on the suite's real Playwright reports:
// `node --test` in this folder (build.sh runs them).

import assert from "node:assert/strict";
import { test } from "node:test";

import { plugin } from "./app.js";
import { CapabilityError, InvalidArguments, expand, matchUri } from "./plue-plugin.js";
import { call, complete, fakeHost, listResources, prompt, read } from "./plue-testing.js";

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

const LOGIN = "auth/login.spec.ts › login › remembers the session";

test("the prompt ranks the flaky tests and links each one's history", () => {
  fakeHost({ directories: { reports } });
  const b = prompt(plugin, "flaky-brief");
  assert.match(b.texts()[0], /^## Flaky tests: 2 of 24 passed only on retry in 3 report\(s\)/);
  assert.deepEqual(b.resourceUris(), [
    `plue://flaky/auth/login.spec.ts%20%E2%80%BA%20login%20%E2%80%BA%20remembers%20the%20session%20%5Bchromium-desktop%5D`,
    `plue://flaky/auth/login.spec.ts%20%E2%80%BA%20login%20%E2%80%BA%20remembers%20the%20session%20%5Bchromium-mobile%5D`,
  ]);
  const one = prompt(plugin, "flaky-brief", { project: "chromium-mobile", test: `${LOGIN} [chromium-mobile]` });
  assert.match(one.texts()[0], /1 of 12 passed only on retry in 3 report/);
  assert.match(one.messages[1].asText(), /\| runs\/run-1.json \| flaky \| 2 \|/);
  assert.throws(() => prompt(plugin, "flaky-brief", { test: "nope" }), InvalidArguments);
  assert.throws(() => prompt(plugin, "flaky-brief", { limit: "3" }), /no argument `limit`/);
});

test("resources list the flaky tests and read a history", () => {
  fakeHost({ directories: { reports } });
  const links = listResources(plugin);
  assert.deepEqual(links.map((l) => l.name), [`${LOGIN} [chromium-desktop]`, `${LOGIN} [chromium-mobile]`]);
  const [page] = read(plugin, links[0].uri);
  assert.equal(page.mimeType, "text/markdown");
  assert.match(page.asText(), /^# auth\/login.spec.ts › login › remembers the session \[chromium-desktop\]\n\nFlaky in 3 of 3 run\(s\)/);
  assert.equal(page.asText().split("\n").filter((l) => / \| flaky \| \d+ \|$/.test(l)).length, 3);
  assert.throws(() => read(plugin, "plue://flaky/nope"), /no test `nope`/);
});

test("test completes from the reports, flaky first, narrowed by project", () => {
  fakeHost({ directories: { reports } });
  const all = complete(plugin, "test", "AUTH/login");
  assert.deepEqual(all.slice(0, 2), [`${LOGIN} [chromium-desktop]`, `${LOGIN} [chromium-mobile]`]);
  assert.ok(all.every((v) => v.startsWith("auth/login")));
  const mobile = complete(plugin, "test", "auth/", { project: "chromium-mobile" });
  assert.ok(mobile.length > 0 && mobile.every((v) => v.endsWith("[chromium-mobile]")));
  assert.deepEqual(complete(plugin, "project", ""), []);
});

test("uri templates expand and match as the host does", () => {
  assert.equal(expand("plue://t/{+path}", { path: "a b/c" }), "plue://t/a%20b/c");
  assert.equal(expand("plue://t/{name}", { name: "a/b" }), "plue://t/a%2Fb");
  assert.deepEqual(matchUri("plue://t/{+path}", "plue://t/a%20b/c"), { path: "a b/c" });
  assert.equal(matchUri("plue://t/{name}", "plue://t/a/b"), null);
  assert.equal(matchUri("plue://t/{name}", "plue://t/"), null);
  assert.deepEqual(matchUri("plue://s/{id}/logs", "plue://s/7/logs"), { id: "7" });
});
