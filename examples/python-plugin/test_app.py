"""Native unit tests of the slo plugin: `python3 -m unittest` in this folder (build.sh runs them)."""

import json
import unittest
import urllib.parse

from plue_plugin import AccessDenied, InvalidArguments, dataclass_schema
from plue_testing import FAKE, call, response

import app

# plue-api in the suite's Prometheus: 20 requests/s, 1 of them a 5xx.
RATES = {"plue-api": (20.0, 1.0), "plue-web": (25.0, 0.1)}


def prometheus(endpoint, method, path_and_query, headers, body):
    if endpoint != "prometheus":
        raise AccessDenied("access-denied", f"endpoint `{endpoint}` is not granted")
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


if __name__ == "__main__":
    unittest.main()
