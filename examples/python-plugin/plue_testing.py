"""Native stand-ins for the host capabilities, so plugin logic runs under plain
`python3 -m unittest` with no component and no host.

    from plue_testing import FAKE, call
    FAKE.http = lambda endpoint, method, path_and_query, headers, body: Response(200, [], b"{}")
    answer = call(plugin, "echo", {"text": "hi"})
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

from plue_plugin import AccessDenied, Answer, Plugin, Response


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
