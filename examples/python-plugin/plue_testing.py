"""Native stand-ins for the host capabilities, so plugin logic runs under plain
`python3 -m unittest` with no component and no host.

    from plue_testing import FAKE, call
    FAKE.http = lambda endpoint, method, path_and_query, headers, body: Response(200, [], b"{}")
    answer = call(plugin, "echo", {"text": "hi"})
    briefing = prompt(plugin, "slo-report", {"job": "plue-api"})
    contents = read(plugin, "plue://slo/plue-api")
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

from plue_plugin import AccessDenied, Answer, Briefing, Contents, Link, Plugin, Response, match_uri


class FakeHost:
    """What `plue_plugin` calls outside a component. Replace `http` and `sql` per test."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.http: Callable[[str, str, str, list, Optional[bytes]], Response] = self._no_http
        self.sql: Callable[[str, str, list], list[dict]] = self._no_sql
        self.settings: dict[str, str] = {}
        self.logs: list[tuple[str, str]] = []

    @staticmethod
    def _no_http(endpoint: str, *_: Any) -> Response:
        raise AccessDenied("access-denied", f"endpoint `{endpoint}`: no fake HTTP host (set FAKE.http)")

    @staticmethod
    def _no_sql(database: str, *_: Any) -> list[dict]:
        raise AccessDenied("access-denied", f"database `{database}`: no fake SQL host (set FAKE.sql)")


FAKE = FakeHost()


def response(status: int, body: Any) -> Response:
    """A response whose body is `body` as JSON (or as given, for str and bytes)."""
    if isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    return Response(status, [("content-type", "application/json")], data)


def call(plugin: Plugin, tool: str, arguments: dict) -> Answer:
    """Run `tool` as the host would, minus the schema check; raises ToolError."""
    return plugin.run(tool, json.dumps(arguments))


def prompt(plugin: Plugin, name: str, arguments: dict[str, str]) -> Briefing:
    """Render prompt `name` as the host would; raises ToolError."""
    return plugin.render(name, list(arguments.items()))


def list_resources(plugin: Plugin) -> list[Link]:
    """Every resource the plugin lists now."""
    return plugin.list_resources()


def read(plugin: Plugin, uri: str) -> list[Contents]:
    """Read `uri` through the family whose template matches it, as the host routes; raises ToolError."""
    for template in plugin.templates:
        variables = match_uri(template, uri)
        if variables is not None:
            return plugin.read(uri, template, list(variables.items()))
    raise KeyError(f"no resource template of `{plugin.name}` matches {uri}")


def complete(plugin: Plugin, argument: str, value: str, context: Optional[dict[str, str]] = None) -> list[str]:
    """The suggestions for `argument` after typing `value`."""
    return plugin.complete(argument, value, list((context or {}).items()))[0]
