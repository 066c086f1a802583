"""Write a plue-mcp tool group in Python: what the Rust SDK (sdk/) gives Rust authors.

A plugin is a WASI 0.2 component built by componentize-py against wit/plugin.wit
(the `plue:plugin/plugin` world of contract 0.2). This module turns typed Python
functions into that world's `tools`, `prompts`, `resources` and `completions`
exports and wraps the host capabilities (HTTP to named endpoints, read-only SQL,
settings, log) in small helpers that raise Python exceptions when the host refuses.

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

    @plugin.prompt("hello-brief", arguments={"name": "Who to greet."}, required=["name"])
    def brief(args: PromptArgs) -> Briefing:
        "Greet someone, as a prompt."
        return Briefing.text(f"Say hello to {args.required('name')}.")

    @plugin.resources("plue://hello/{name}", "greeting", mime_type="text/plain")
    def greeting(vars: Vars) -> list[Contents]:
        "A greeting, as a resource."
        return [Contents.text(vars.uri, "text/plain", f"hello, {vars.get('name')}")]

    @greeting.list
    def greetings() -> list[Link]:
        return [Link(expand("plue://hello/{name}", name="world"), "world")]

    @plugin.completion("name")
    def names(c: Completing) -> list[str]:
        return c.filter(["world", "wasm"])

    Tools, Prompts, Resources, Completions = plugin.exports()  # what componentize-py looks for

A plugin with tools only declares none of the last four and exports the same four
classes: prompts, resources and completions then answer with nothing.

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


# ---------------------------------------------------------------- prompts, resources, completions

# The most values one completion returns (MCP's cap).
MAX_COMPLETIONS = 100

_UNRESERVED = "-._~"


def _template_parts(template: str) -> list[tuple[str, str, bool]]:
    """`template` as (literal, "", False) and ("", variable, reserved) parts: the
    subset of RFC 6570 resource families use (`{name}` one segment, `{+name}` the rest)."""
    parts: list[tuple[str, str, bool]] = []
    rest = template
    while rest:
        start = rest.find("{")
        if start == 0:
            end = rest.find("}")
            if end < 0:
                raise ValueError(f"`{template}`: `{{` without `}}`")
            inner = rest[1:end]
            name = inner[1:] if inner.startswith("+") else inner
            if not name or not all(c.islower() or c.isdigit() or c == "_" for c in name) or not name.isascii():
                raise ValueError(f"`{template}`: variable `{inner}` must be lowercase letters, digits and `_` (optionally after `+`)")
            if parts and parts[-1][1]:
                raise ValueError(f"`{template}`: two variables need a literal between them")
            parts.append(("", name, inner.startswith("+")))
            rest = rest[end + 1:]
        else:
            cut = len(rest) if start < 0 else start
            parts.append((rest[:cut], "", False))
            rest = rest[cut:]
    return parts


def expand(template: str, **values: str) -> str:
    """The URI of the member of `template` with these variable values, percent-encoded
    as the host decodes them (`/` kept only in a `{+name}`)."""
    out = []
    for literal, name, reserved in _template_parts(template):
        if name:
            out.append(urllib.parse.quote(str(values[name]), safe=_UNRESERVED + ("/" if reserved else "")))
        else:
            out.append(literal)
    return "".join(out)


def match_uri(template: str, uri: str) -> Optional[dict[str, str]]:
    """The variables (percent-decoded) when `uri` is a member of `template`, as the host matches."""
    parts = _template_parts(template)
    values: dict[str, str] = {}
    rest = uri
    for i, (literal, name, reserved) in enumerate(parts):
        if not name:
            if not rest.startswith(literal):
                return None
            rest = rest[len(literal):]
            continue
        following = parts[i + 1][0] if i + 1 < len(parts) else ""
        end = rest.find(following) if following else len(rest)
        value = rest[:max(end, 0)] if end >= 0 else None
        if not value or (not reserved and "/" in value):
            return None
        values[name] = urllib.parse.unquote(value, errors="strict")
        rest = rest[end:]
    return values if not rest else None


class PromptArgs:
    """A prompt's arguments as the user gave them (text; empty values count as absent)."""

    def __init__(self, pairs: Any = ()):
        items = pairs.items() if isinstance(pairs, dict) else pairs
        self._values = {k: v.strip() for k, v in items if v.strip()}

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The value of `name`, if given."""
        return self._values.get(name, default)

    def required(self, name: str) -> str:
        """The value of `name`, or InvalidArguments saying it is needed."""
        if name not in self._values:
            raise InvalidArguments(f"argument `{name}` is required")
        return self._values[name]

    def flag(self, name: str) -> bool:
        """Whether the flag `name` is on: `true`, `yes`, `y`, `1` or `on`."""
        return self._values.get(name, "").lower() in ("true", "yes", "y", "1", "on")

    def names(self) -> list[str]:
        return list(self._values)


@dataclasses.dataclass
class Link:
    """One concrete resource: a member a lister returns, or a link in a prompt."""

    uri: str
    name: str
    title: Optional[str] = None
    description: Optional[str] = None
    mime_type: Optional[str] = None
    size: Optional[int] = None


@dataclasses.dataclass
class Contents:
    """A resource's contents: text (`str`) or a blob (`bytes`). Build with `text` or `blob`."""

    uri: str
    mime_type: Optional[str]
    body: Any

    @classmethod
    def text(cls, uri: str, mime_type: str, text: str) -> "Contents":
        return cls(uri, mime_type, str(text))

    @classmethod
    def blob(cls, uri: str, mime_type: str, data: bytes) -> "Contents":
        return cls(uri, mime_type, bytes(data))

    def as_text(self) -> Optional[str]:
        return self.body if isinstance(self.body, str) else None

    def as_bytes(self) -> Optional[bytes]:
        return self.body if isinstance(self.body, bytes) else None


class Briefing:
    """A rendered prompt: user messages for the model, most useful first.

    `Briefing.text("2 jobs burning").with_text("Next: slo_burn_rate").with_link(Link(...))`"""

    def __init__(self) -> None:
        self.description: Optional[str] = None
        self.messages: list[Any] = []  # str, Link or Contents

    @classmethod
    def text(cls, text: str) -> "Briefing":
        return cls().with_text(text)

    def described(self, description: str) -> "Briefing":
        """One line on what this rendering is about."""
        self.description = description
        return self

    def with_text(self, text: str) -> "Briefing":
        self.messages.append(str(text))
        return self

    def with_resource(self, contents: Contents) -> "Briefing":
        """Embed a resource's contents."""
        self.messages.append(contents)
        return self

    def with_link(self, link: Link) -> "Briefing":
        """Link a resource the client can read."""
        self.messages.append(link)
        return self

    def texts(self) -> list[str]:
        return [m for m in self.messages if isinstance(m, str)]

    def resource_uris(self) -> list[str]:
        return [m.uri for m in self.messages if not isinstance(m, str)]


class Vars:
    """The URI being read and its template variables' values (percent-decoded)."""

    def __init__(self, uri: str, values: Any = ()):
        self.uri = uri
        self._values = dict(values)

    def get(self, name: str) -> str:
        if name not in self._values:
            raise InvalidArguments(f"`{self.uri}` has no variable `{name}`")
        return self._values[name]


@dataclasses.dataclass
class Completing:
    """What is being completed: the text typed so far and the other arguments, by name."""

    value: str = ""
    context: dict[str, str] = dataclasses.field(default_factory=dict)

    def matches(self, candidate: str) -> bool:
        """Whether `candidate` continues what was typed (case-insensitive prefix)."""
        return candidate.lower().startswith(self.value.lower())

    def filter(self, candidates: Any) -> list[str]:
        """`candidates` that continue what was typed, in their order."""
        return [c for c in candidates if self.matches(c)]


@dataclasses.dataclass
class _Prompt:
    name: str
    title: Optional[str]
    description: str
    arguments: list[tuple[str, str, bool]]
    handler: Callable[[PromptArgs], Any]


class Template:
    """A resource family: its URI template, its reader and (with `.list`) its lister."""

    def __init__(self, uri_template: str, name: str, title: Optional[str], description: str,
                 mime_type: Optional[str], reader: Callable[[Vars], list[Contents]]):
        _template_parts(uri_template)  # a malformed template fails at import, not at read
        self.uri_template, self.name, self.title = uri_template, name, title
        self.description, self.mime_type, self.reader = description, mime_type, reader
        self.lister: Callable[[], list[Link]] = lambda: []

    def list(self, lister: Callable[[], list[Link]]) -> Callable[[], list[Link]]:
        """Decorator: the family's current members, most useful first."""
        self.lister = lister
        return lister

    def __call__(self, vars: Vars) -> list[Contents]:
        return self.reader(vars)


class Plugin:
    """A tool group: its name, version, tools, the resources it asks for, its settings."""

    def __init__(self, name: str, version: str, description: str):
        self.name, self.version, self.description = name, version, description
        self.tools: dict[str, _Tool] = {}
        self.capabilities: dict[str, list[str]] = {"http": [], "sql": [], "directories": []}
        self.settings: list[tuple[str, str, Optional[str]]] = []
        self.prompts: dict[str, _Prompt] = {}
        self.templates: dict[str, Template] = {}
        self.completers: dict[str, Callable[[Completing], list[str]]] = {}

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

    def prompt(self, name: str, *, title: Optional[str] = None, description: Optional[str] = None,
               arguments: Optional[dict[str, str]] = None, required: Any = ()) -> Callable[[Callable], Callable]:
        """Register a handler `(PromptArgs) -> Briefing | str` as the prompt `name`.
        `arguments` maps argument names to what to pass; those in `required` must be given.
        Its docstring is the description unless given."""

        def register(fn: Callable) -> Callable:
            text = description or inspect.getdoc(fn)
            if not text:
                raise TypeError(f"prompt `{name}` needs a description (a docstring)")
            args = arguments or {}
            unknown = [r for r in required if r not in args]
            if unknown:
                raise TypeError(f"prompt `{name}`: required {unknown} not among its arguments")
            self.prompts[name] = _Prompt(name, title, text, [(a, d, a in required) for a, d in args.items()], fn)
            return fn

        return register

    def resources(self, uri_template: str, name: str, *, title: Optional[str] = None,
                  description: Optional[str] = None, mime_type: Optional[str] = None) -> Callable[[Callable], Template]:
        """Register a reader `(Vars) -> list[Contents]` for the family `uri_template`
        (`{name}` one path segment, `{+name}` the rest). Returns the Template: decorate
        its lister with `@<reader>.list`. Its docstring is the description unless given."""

        def register(fn: Callable) -> Template:
            text = description or inspect.getdoc(fn)
            if not text:
                raise TypeError(f"resource family `{uri_template}` needs a description (a docstring)")
            template = Template(uri_template, name, title, text, mime_type, fn)
            self.templates[uri_template] = template
            return template

        return register

    def completion(self, argument: str) -> Callable[[Callable], Callable]:
        """Register `(Completing) -> list[str]` for every prompt argument and template
        variable named `argument`, candidates best first (the first 100 are sent)."""

        def register(fn: Callable) -> Callable:
            self.completers[argument] = fn
            return fn

        return register

    # ---- prompts, resources and completions, independent of the WIT types (plue_testing uses them)

    def render(self, name: str, pairs: Any) -> Briefing:
        """Render prompt `name` with (name, value) pairs. Raises ToolError; KeyError if unknown."""
        prompt = self.prompts[name]
        args = PromptArgs(pairs)
        for arg, _, required in prompt.arguments:
            if required:
                args.required(arg)
        known = [a for a, _, _ in prompt.arguments]
        for given in args.names():
            if given not in known:
                raise InvalidArguments(f"prompt `{name}` has no argument `{given}`; its arguments: {', '.join(known) or 'none'}")
        out = prompt.handler(args)
        if isinstance(out, str):
            out = Briefing.text(out)
        if not isinstance(out, Briefing):
            raise TypeError(f"prompt `{name}` returned {type(out).__name__}; return a Briefing or a str")
        return out

    def list_resources(self) -> list[Link]:
        """Every family's members, in declaration order."""
        return [link for t in self.templates.values() for link in t.lister()]

    def read(self, uri: str, uri_template: str, variables: Any) -> list[Contents]:
        """Read `uri` of the family `uri_template`. Raises ToolError; KeyError if unknown."""
        return list(self.templates[uri_template].reader(Vars(uri, variables)))

    def complete(self, argument: str, value: str, context: Any = ()) -> tuple[list[str], int]:
        """(the first MAX_COMPLETIONS suggestions, how many there were) for `argument`."""
        completer = self.completers.get(argument)
        if completer is None:
            return [], 0
        values = list(completer(Completing(value, dict(context))))
        return values[:MAX_COMPLETIONS], len(values)

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

    def exports(self) -> tuple[type, type, type, type]:
        """The classes componentize-py instantiates for the world's four exports:
        `Tools, Prompts, Resources, Completions = plugin.exports()`."""
        plugin = self
        base = _exports if IN_COMPONENT else None

        class Tools(base.Tools if base else object):  # type: ignore[misc,union-attr]
            def manifest(self):  # noqa: D401 - WIT export
                return plugin._manifest()

            def call_tool(self, name: str, arguments: str):
                return plugin._call(name, arguments)

        class Prompts(base.Prompts if base else object):  # type: ignore[misc,union-attr]
            def get_prompt(self, name: str, arguments: list[tuple[str, str]]):
                return plugin._get_prompt(name, arguments)

        class Resources(base.Resources if base else object):  # type: ignore[misc,union-attr]
            def list_resources(self):
                return _guarded(lambda: [_wit_link(link) for link in plugin.list_resources()])

            def read_resource(self, uri: str, uri_template: str, variables: list[tuple[str, str]]):
                if uri_template not in plugin.templates:
                    raise _Err(_types.ToolError_UnknownTool(uri_template))
                return _guarded(lambda: [_wit_contents(c) for c in plugin.read(uri, uri_template, variables)])

        class Completions(base.Completions if base else object):  # type: ignore[misc,union-attr]
            def complete(self, target: Any, argument: str, value: str, context: list[tuple[str, str]]):
                values, total = _guarded(lambda: plugin.complete(argument, value, context))
                return _types.Completion(values, total, total > len(values))

        return Tools, Prompts, Resources, Completions

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
            [
                t.Prompt(p.name, p.title, p.description, [t.PromptArgument(a, d, r) for a, d, r in p.arguments])
                for p in self.prompts.values()
            ],
            [
                t.ResourceTemplate(tp.uri_template, tp.name, tp.title, tp.description, tp.mime_type)
                for tp in self.templates.values()
            ],
        )

    def _get_prompt(self, name: str, arguments: list[tuple[str, str]]):
        t = _types
        if name not in self.prompts:
            raise _Err(t.ToolError_UnknownTool(name))
        briefing = _guarded(lambda: self.render(name, arguments))
        messages = []
        for m in briefing.messages:
            if isinstance(m, str):
                content = t.Content_Text(m)
            elif isinstance(m, Link):
                content = t.Content_ResourceLink(_wit_link(m))
            else:
                content = t.Content_Embedded(_wit_contents(m))
            messages.append(t.PromptMessage(t.Role.USER, content))
        return t.PromptResult(briefing.description, messages)

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


def _guarded(run: Callable[[], Any]) -> Any:
    """`run()`, its ToolError as the WIT `tool-error` the host reports."""
    try:
        return run()
    except InvalidArguments as e:
        raise _Err(_types.ToolError_InvalidArguments(str(e)))
    except ToolError as e:
        raise _Err(_types.ToolError_Failed(str(e)))


def _wit_link(link: Link):
    return _types.ResourceInfo(link.uri, link.name, link.title, link.description, link.mime_type, link.size)


def _wit_contents(c: Contents):
    body = _types.ResourceBody_Blob(c.body) if isinstance(c.body, bytes) else _types.ResourceBody_Text(c.body)
    return _types.ResourceContents(c.uri, c.mime_type, body)


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
