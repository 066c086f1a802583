"""Write a plue-mcp tool group in Python: what the Rust SDK (sdk/) gives Rust authors.

A plugin is a WASI 0.2 component built by componentize-py against wit/plugin.wit
(the `plue:plugin/plugin` world). This module turns typed Python functions into
that world's `tools` export and wraps the host capabilities (HTTP to named
endpoints, read-only SQL, settings, log) in small helpers that raise Python
exceptions when the host refuses.

    from dataclasses import dataclass, field
    from plue_plugin import Plugin, Answer, desc

    plugin = Plugin("hello", "0.1.0", "Greets people.")

    @dataclass
    class GreetArgs:
        name: str = field(metadata=desc("Who to greet."))

    @plugin.tool(read_only=True)
    def greet(args: GreetArgs) -> Answer:
        "Greet someone by name."
        return Answer(f"hello, {args.name}", {"greeting": f"hello, {args.name}"})

    Tools = plugin.export()   # the class componentize-py looks for

Arguments come either as one dataclass parameter (as above) or as plain
annotated parameters (`def greet(name: Annotated[str, desc("Who.")])`); the
JSON Schema the host validates calls against is derived from the annotations.

Outside a component (plain `python3`, unit tests) the capability functions are
served by the fakes in `plue_plugin.testing`, so plugin logic tests natively.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import types as pytypes
import typing
import urllib.parse
from typing import Any, Callable, Optional

try:  # Inside the component: the bindings componentize-py generates from the WIT.
    from wit_world import exports as _exports
    from wit_world.imports import http as _http
    from wit_world.imports import log as _log
    from wit_world.imports import settings as _settings
    from wit_world.imports import sql as _sql
    from wit_world.imports import types as _types
    from componentize_py_types import Err as _Err

    IN_COMPONENT = True
except ImportError:  # Natively: testing.py provides stand-ins.
    IN_COMPONENT = False


# ---------------------------------------------------------------- errors


class ToolError(Exception):
    """The tool could not answer; the message is shown to the agent. Say what to do."""


class InvalidArguments(ToolError):
    """The arguments were not acceptable: name the argument and what was expected."""


class CapabilityError(ToolError):
    """The host refused or could not serve a capability call. `kind` is the WIT case."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind.replace('-', ' ')}: {message}")
        self.kind = kind
        self.detail = message


class AccessDenied(CapabilityError):
    """The endpoint or database is not granted to this plugin."""


class Refused(CapabilityError):
    """The request or statement was refused before anything was sent."""


class Timeout(CapabilityError):
    """The backend did not answer within its timeout."""


class Unavailable(CapabilityError):
    """The backend could not be reached, answered too much, or is not configured."""


class DatabaseError(CapabilityError):
    """PostgreSQL rejected the statement; `code` is its SQLSTATE."""

    def __init__(self, code: str, message: str, hint: Optional[str]):
        super().__init__("database-error", f"{message} (SQLSTATE {code})" + (f"; hint: {hint}" if hint else ""))
        self.code = code


# ---------------------------------------------------------------- schema


def desc(description: str, **schema: Any) -> dict:
    """Field metadata: a description plus any JSON Schema keywords (minimum, enum, …).

    Use as `field(metadata=desc(...))` in a dataclass or `Annotated[T, desc(...)]`.
    """
    return {"description": description, **schema}


def _strip_annotated(tp: Any) -> tuple[Any, dict]:
    if typing.get_origin(tp) is typing.Annotated:
        base, *extras = typing.get_args(tp)
        meta: dict = {}
        for extra in extras:
            if isinstance(extra, dict):
                meta.update(extra)
            elif isinstance(extra, str):
                meta["description"] = extra
        return base, meta
    return tp, {}


def _optional_inner(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, pytypes.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def type_schema(tp: Any) -> dict:
    """The JSON Schema of a Python type annotation."""
    tp, meta = _strip_annotated(tp)
    tp, _ = _optional_inner(tp)
    origin = typing.get_origin(tp)
    if tp is str:
        schema: dict = {"type": "string"}
    elif tp is bool:
        schema = {"type": "boolean"}
    elif tp is int:
        schema = {"type": "integer"}
    elif tp is float:
        schema = {"type": "number"}
    elif origin is typing.Literal:
        values = list(typing.get_args(tp))
        schema = {"enum": values}
        if all(isinstance(v, str) for v in values):
            schema["type"] = "string"
    elif origin in (list, typing.List):
        (item,) = typing.get_args(tp) or (Any,)
        schema = {"type": "array", "items": type_schema(item)}
    elif dataclasses.is_dataclass(tp):
        schema = dataclass_schema(tp)
    elif tp is Any or tp is dict or origin is dict:
        schema = {}
    else:
        raise TypeError(f"no JSON Schema for the annotation {tp!r}: use str, int, float, bool, Literal, list, a dataclass or Annotated of those")
    schema.update(meta)
    return schema


def _object_schema(params: list[tuple[str, Any, bool, Any, dict]]) -> dict:
    properties, required = {}, []
    for name, tp, has_default, default, meta in params:
        prop = type_schema(tp)
        prop.update(meta)
        if has_default:
            if default is not None:
                prop["default"] = default
        else:
            required.append(name)
        properties[name] = prop
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def dataclass_schema(cls: type) -> dict:
    """The JSON Schema of a dataclass: its fields, their metadata, required unless defaulted."""
    hints = typing.get_type_hints(cls, include_extras=True)
    params = []
    for f in dataclasses.fields(cls):
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        )
        params.append((f.name, hints[f.name], has_default, _jsonable(default), dict(f.metadata)))
    return _object_schema(params)


def _function_schema(fn: Callable) -> tuple[dict, Optional[type]]:
    """(input schema, the dataclass to build) of a handler."""
    hints = typing.get_type_hints(fn, include_extras=True)
    sig = inspect.signature(fn)
    names = [n for n in sig.parameters]
    if len(names) == 1 and dataclasses.is_dataclass(_strip_annotated(hints.get(names[0]))[0]):
        cls = _strip_annotated(hints[names[0]])[0]
        return dataclass_schema(cls), cls
    params = []
    for name, p in sig.parameters.items():
        if name not in hints:
            raise TypeError(f"parameter `{name}` of `{fn.__name__}` needs a type annotation")
        has_default = p.default is not inspect.Parameter.empty
        params.append((name, hints[name], has_default, _jsonable(p.default) if has_default else None, {}))
    return _object_schema(params), None


def _convert(value: Any, tp: Any) -> Any:
    """A JSON value (already valid against the schema) as the annotated Python type."""
    tp, _ = _strip_annotated(tp)
    tp, _ = _optional_inner(tp)
    if value is None:
        return None
    if dataclasses.is_dataclass(tp):
        return _build(tp, value)
    if typing.get_origin(tp) in (list, typing.List):
        (item,) = typing.get_args(tp) or (Any,)
        return [_convert(v, item) for v in value]
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def _build(cls: type, obj: dict) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    kwargs = {f.name: _convert(obj[f.name], hints[f.name]) for f in dataclasses.fields(cls) if f.name in obj}
    return cls(**kwargs)


def _jsonable(value: Any) -> Any:
    """`value` with dataclasses (also inside lists and dicts) as plain dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- answers


@dataclasses.dataclass
class Answer:
    """A tool's answer: text for the agent, most useful first, and the same as JSON."""

    text: str
    structured: Any = None
    is_error: bool = False


@dataclasses.dataclass
class _Tool:
    name: str
    description: str
    title: Optional[str]
    input_schema: dict
    output_schema: Optional[dict]
    annotations: tuple[bool, bool, bool, bool]
    handler: Callable
    args_class: Optional[type]


class Plugin:
    """A tool group: its name, version, tools, the resources it asks for, its settings."""

    def __init__(self, name: str, version: str, description: str):
        self.name, self.version, self.description = name, version, description
        self.tools: dict[str, _Tool] = {}
        self.capabilities: dict[str, list[str]] = {"http": [], "sql": [], "directories": []}
        self.settings: list[tuple[str, str, Optional[str]]] = []

    def http(self, endpoint: str) -> "Plugin":
        """Ask for the HTTP endpoint `endpoint` (the operator grants it by name)."""
        self.capabilities["http"].append(endpoint)
        return self

    def sql(self, database: str) -> "Plugin":
        """Ask for the PostgreSQL database `database`."""
        self.capabilities["sql"].append(database)
        return self

    def directory(self, name: str) -> "Plugin":
        """Ask for the directory `name`, mounted read-only at `/<name>`."""
        self.capabilities["directories"].append(name)
        return self

    def setting(self, key: str, default: Optional[str], description: str) -> "Plugin":
        """Declare a setting the operator may set in `[plugins.<name>.settings]`."""
        self.settings.append((key, description, default))
        return self

    def tool(
        self,
        name: Optional[str] = None,
        *,
        title: Optional[str] = None,
        description: Optional[str] = None,
        output: Optional[type] = None,
        read_only: bool = False,
        destructive: bool = False,
        idempotent: bool = False,
        open_world: bool = False,
    ) -> Callable[[Callable], Callable]:
        """Register a handler as a tool. Its docstring is the description unless given;
        `output` (a dataclass) declares the structured answer's schema."""

        def register(fn: Callable) -> Callable:
            tool_name = name or fn.__name__
            text = description or inspect.getdoc(fn)
            if not text:
                raise TypeError(f"tool `{tool_name}` needs a description (a docstring)")
            schema, cls = _function_schema(fn)
            self.tools[tool_name] = _Tool(
                tool_name,
                text,
                title,
                schema,
                dataclass_schema(output) if output else None,
                (read_only, destructive and not read_only, idempotent or read_only, open_world),
                fn,
                cls,
            )
            return fn

        return register

    # ---- running a tool, independent of the WIT types (testing.call uses it too)

    def run(self, name: str, arguments: str) -> Answer:
        """Run tool `name` on JSON `arguments`. Raises ToolError; KeyError for an unknown tool."""
        tool = self.tools[name]
        try:
            args = json.loads(arguments or "{}")
        except json.JSONDecodeError as e:
            raise InvalidArguments(f"arguments are not JSON: {e}") from None
        if not isinstance(args, dict):
            raise InvalidArguments("arguments must be a JSON object")
        if tool.args_class is not None:
            answer = tool.handler(_build(tool.args_class, args))
        else:
            hints = typing.get_type_hints(tool.handler, include_extras=True)
            answer = tool.handler(**{k: _convert(v, hints[k]) for k, v in args.items() if k in hints})
        if isinstance(answer, str):
            answer = Answer(answer)
        if not isinstance(answer, Answer):
            raise TypeError(f"tool `{name}` returned {type(answer).__name__}; return an Answer or a str")
        return answer

    # ---- the WIT export

    def export(self) -> type:
        """The class componentize-py instantiates for the `tools` export."""
        plugin = self

        class Tools(_exports.Tools if IN_COMPONENT else object):  # type: ignore[misc]
            def manifest(self):  # noqa: D401 - WIT export
                return plugin._manifest()

            def call_tool(self, name: str, arguments: str):
                return plugin._call(name, arguments)

        return Tools

    def _manifest(self):
        t = _types
        return t.PluginManifest(
            self.name,
            self.version,
            self.description,
            [
                t.Tool(
                    tool.name,
                    tool.title,
                    tool.description,
                    json.dumps(tool.input_schema),
                    json.dumps(tool.output_schema) if tool.output_schema else None,
                    t.ToolAnnotations(*tool.annotations),
                )
                for tool in self.tools.values()
            ],
            t.Capabilities(self.capabilities["http"], self.capabilities["sql"], self.capabilities["directories"]),
            [t.Setting(key, description, default) for key, description, default in self.settings],
        )

    def _call(self, name: str, arguments: str):
        t = _types
        if name not in self.tools:
            raise _Err(t.ToolError_UnknownTool(name))
        try:
            answer = self.run(name, arguments)
        except InvalidArguments as e:
            raise _Err(t.ToolError_InvalidArguments(str(e)))
        except ToolError as e:
            raise _Err(t.ToolError_Failed(str(e)))
        structured = None if answer.structured is None else json.dumps(_jsonable(answer.structured))
        return t.ToolResult([t.Content_Text(answer.text)], structured, answer.is_error)


# ---------------------------------------------------------------- capabilities


def _host():
    """The capability functions: the component's imports, or the native fakes."""
    if IN_COMPONENT:
        return None
    from plue_testing import FAKE  # noqa: PLC0415 - only outside a component

    return FAKE


_HTTP_ERRORS = {
    "AccessDenied": (AccessDenied, "access-denied"),
    "InvalidRequest": (Refused, "invalid-request"),
    "Timeout": (Timeout, "timeout"),
    "Unreachable": (Unavailable, "unreachable"),
    "ResponseTooLarge": (Unavailable, "response-too-large"),
}

_SQL_ERRORS = {
    "AccessDenied": (AccessDenied, "access-denied"),
    "Refused": (Refused, "refused"),
    "Timeout": (Timeout, "timeout"),
    "Unavailable": (Unavailable, "unavailable"),
}


def _raise_capability(err: Any, table: dict, what: str) -> None:
    case = type(err).__name__.split("_", 1)[-1]
    if case == "Database":
        e = err.value
        raise DatabaseError(e.code, e.message, e.hint)
    cls, kind = table[case]
    raise cls(kind, f"{what}: {err.value}")


@dataclasses.dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


def query_string(pairs: list[tuple[str, str]]) -> str:
    """`k=v&…`, percent-encoded as the host requires."""
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, safe="")


class Endpoint:
    """A granted HTTP endpoint, named as in the manifest."""

    def __init__(self, name: str):
        self.name = name

    def fetch(self, method: str, path: str, query: Optional[list[tuple[str, str]]] = None,
              headers: Optional[list[tuple[str, str]]] = None, body: Optional[bytes] = None) -> Response:
        """One request; raises a CapabilityError subclass when the host refuses or fails."""
        path_and_query = path + ("?" + query_string(query) if query else "")
        fake = _host()
        if fake is not None:
            return fake.http(self.name, method, path_and_query, headers or [], body)
        request = _http.Request(self.name, _http.Method[method.upper()], path_and_query, headers or [], body)
        try:
            r = _http.fetch(request)
        except _Err as e:
            _raise_capability(e.value, _HTTP_ERRORS, f"endpoint `{self.name}`")
        return Response(r.status, r.headers, bytes(r.body))

    def get_json(self, path: str, query: Optional[list[tuple[str, str]]] = None) -> Any:
        """`GET path?query` as JSON; a non-2xx status is a ToolError naming the endpoint."""
        r = self.fetch("GET", path, query, [("accept", "application/json")])
        if not 200 <= r.status < 300:
            raise ToolError(f"endpoint `{self.name}` answered HTTP {r.status} for {path}: {r.text().strip()[:500]}")
        try:
            return r.json()
        except ValueError as e:
            raise ToolError(f"endpoint `{self.name}` returned invalid JSON for {path}: {e}") from None


def sql_query(database: str, statement: str, params: Optional[list[Any]] = None) -> list[dict]:
    """Run one read-only statement; rows as dicts keyed by column name.

    Parameters may be None, bool, int, float or str."""
    params = params or []
    fake = _host()
    if fake is not None:
        return fake.sql(database, statement, params)

    def value(p: Any):
        s = _sql
        if p is None:
            return s.Value_Null()
        if isinstance(p, bool):
            return s.Value_Boolean(p)
        if isinstance(p, int):
            return s.Value_Int(p)
        if isinstance(p, float):
            return s.Value_Float(p)
        return s.Value_Text(str(p))

    try:
        rows = _sql.query(database, statement, [value(p) for p in params])
    except _Err as e:
        _raise_capability(e.value, _SQL_ERRORS, f"database `{database}`")
    names = [c.name for c in rows.columns]
    out = []
    for row in rows.rows:
        cells = []
        for cell in row:
            v = getattr(cell, "value", None)
            if type(cell).__name__ == "Value_Json" and v is not None:
                v = json.loads(v)
            cells.append(v)
        out.append(dict(zip(names, cells)))
    return out


def setting(key: str) -> Optional[str]:
    """The operator's value for `key`, else the manifest's default, else None."""
    fake = _host()
    if fake is not None:
        return fake.settings.get(key)
    return _settings.get(key)


def log(level: str, message: str) -> None:
    """Log at `trace`, `debug`, `info`, `warn` or `error`. Never log secrets."""
    fake = _host()
    if fake is not None:
        fake.logs.append((level, message))
        return
    _log.log(_log.Level[level.upper()], message)
