"""Native unit tests of the slo plugin: `python3 -m unittest` in this folder (build.sh runs them)."""

import json
import unittest
import urllib.parse

from plue_plugin import AccessDenied, InvalidArguments, dataclass_schema, expand, match_uri
from plue_testing import FAKE, call, complete, list_resources, prompt, read, response

import app

# plue-api in the suite's Prometheus: 20 requests/s, 1 of them a 5xx.
RATES = {"plue-api": (20.0, 1.0), "plue-web": (25.0, 0.1)}


def prometheus(endpoint, method, path_and_query, headers, body):
    if endpoint != "prometheus":
        raise AccessDenied("access-denied", f"endpoint `{endpoint}` is not granted")
    if path_and_query.startswith("/api/v1/label/job/values?"):
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(path_and_query).query)
        assert params["match[]"] == ["plue_http_requests_total"], params
        return response(200, {"status": "success", "data": sorted(RATES, reverse=True)})
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path_and_query).query)["query"][0]
    job = query.split('job="')[1].split('"')[0]
    total, errors = RATES.get(job, (0.0, 0.0))
    value = errors if "status=~" in query else total
    result = [{"metric": {}, "value": [0, str(value)]}] if job in RATES else []
    return response(200, {"status": "success", "data": {"resultType": "vector", "result": result}})


class SloTest(unittest.TestCase):
    def setUp(self):
        FAKE.reset()
        FAKE.http = prometheus

    def test_schema_comes_from_the_dataclass(self):
        schema = app.plugin.tools["slo_burn_rate"].input_schema
        self.assertEqual(schema["required"], ["job", "objective"])
        self.assertEqual(schema["properties"]["windows"]["items"]["required"], ["long", "short", "threshold"])
        self.assertEqual(schema["properties"]["objective"]["exclusiveMaximum"], 1)
        self.assertEqual(dataclass_schema(app.Window)["properties"]["long"]["type"], "string")
        # The manifest carries schemas as JSON text: defaults must serialise.
        default = json.loads(json.dumps(schema))["properties"]["windows"]["default"]
        self.assertEqual(default[0], {"long": "1h", "short": "5m", "threshold": 14.4})

    def test_burn_rate_is_the_error_ratio_over_the_budget(self):
        out = call(app.plugin, "slo_burn_rate", {"job": "plue-api", "objective": 0.99})
        report = json.loads(json.dumps(out.structured.__dict__, default=lambda o: o.__dict__))
        self.assertFalse(report["firing"])
        self.assertAlmostEqual(report["windows"][0]["long_burn_rate"], 5.0)
        out = call(app.plugin, "slo_burn_rate", {"job": "plue-api", "objective": 0.999})
        self.assertTrue(out.structured.firing)
        self.assertIn("FIRING", out.text)
        self.assertAlmostEqual(out.structured.windows[0].short_burn_rate, 50.0)

    def test_unknown_job_and_ungranted_endpoint_are_errors(self):
        with self.assertRaises(InvalidArguments):
            call(app.plugin, "slo_burn_rate", {"job": "nope", "objective": 0.99})
        with self.assertRaises(AccessDenied):
            call(app.plugin, "slo_burn_rate", {"job": "plue-api", "objective": 0.99, "endpoint": "other"})

    def test_echo(self):
        out = call(app.plugin, "echo", {"text": "hi", "times": 3})
        self.assertEqual(out.text, "hi hi hi")
        self.assertEqual(FAKE.logs, [("info", "echoing 2 character(s) 3 time(s)")])


class PromptResourceCompletionTest(unittest.TestCase):
    def setUp(self):
        FAKE.reset()
        FAKE.http = prometheus

    def test_the_prompt_reports_the_burn_and_links_the_resource(self):
        b = prompt(app.plugin, "slo-report", {"job": "plue-api", "objective": "0.99"})
        # 1 of 20 requests fail: 5% against a 1% budget is a 5x burn, under 14.4x and 6x.
        self.assertIn("plue-api: ok against 99%", b.texts()[0])
        self.assertIn("burn 5x / 5x", b.texts()[0])
        self.assertEqual(b.resource_uris(), ["plue://slo/plue-api"])
        self.assertEqual(b.description, "plue-api against 99%")
        # The setting's objective (0.999) by default: a 50x burn pages.
        self.assertIn("FIRING", prompt(app.plugin, "slo-report", {"job": "plue-api"}).texts()[0])

    def test_the_prompt_refuses_bad_arguments(self):
        for args, says in [({}, "`job` is required"), ({"job": "plue-api", "objective": "2"}, "objective `2`"),
                           ({"job": "plue-api", "window": "1h"}, "no argument `window`"), ({"job": "nope"}, "no requests")]:
            with self.assertRaises(InvalidArguments) as e:
                prompt(app.plugin, "slo-report", args)
            self.assertIn(says, str(e.exception))

    def test_resources_list_each_job_and_read_its_table(self):
        self.assertEqual([l.uri for l in list_resources(app.plugin)], ["plue://slo/plue-api", "plue://slo/plue-web"])
        (page,) = read(app.plugin, "plue://slo/plue-web")
        self.assertEqual(page.mime_type, "text/markdown")
        # plue-web: 0.1 of 25 requests/s fail, 0.4% against the 0.1% budget: 4x.
        self.assertIn("| 1h/5m | 4x | 4x | 14.4x | no | 0.4% |", page.as_text())
        with self.assertRaises(InvalidArguments):
            read(app.plugin, "plue://slo/nope")
        FAKE.settings["objective"] = "99"
        with self.assertRaises(InvalidArguments):
            read(app.plugin, "plue://slo/plue-web")

    def test_job_completes_from_prometheus(self):
        self.assertEqual(complete(app.plugin, "job", "plue-w"), ["plue-web"])
        self.assertEqual(complete(app.plugin, "job", "PLUE"), ["plue-api", "plue-web"])
        self.assertEqual(complete(app.plugin, "objective", ""), [])

    def test_uri_templates_expand_and_match_as_the_host_does(self):
        self.assertEqual(expand("plue://t/{+path}", path="a b/c"), "plue://t/a%20b/c")
        self.assertEqual(expand("plue://t/{name}", name="a/b"), "plue://t/a%2Fb")
        self.assertEqual(match_uri("plue://t/{+path}", "plue://t/a%20b/c"), {"path": "a b/c"})
        self.assertIsNone(match_uri("plue://slo/{job}", "plue://slo/a/b"))
        self.assertIsNone(match_uri("plue://slo/{job}", "plue://slo/"))
        self.assertEqual(match_uri("plue://s/{id}/logs", "plue://s/7/logs"), {"id": "7"})


if __name__ == "__main__":
    unittest.main()
