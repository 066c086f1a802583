// Write a plue-mcp tool group in JavaScript: what the Rust SDK (sdk/) gives Rust authors.
//
// A plugin is a WASI 0.2 component built by componentize-js against wit/plugin.wit
// (contract 0.2, world `plugin`). This module turns handler functions with a declared
// argument schema into the `tools` export, prompts, resource families and completers
// into the `prompts`, `resources` and `completions` exports (empty when a plugin
// declares none), and wraps the host capabilities (HTTP to named
// endpoints, read-only SQL, settings, log, granted directories) in small helpers
// that throw `CapabilityError`s when the host refuses.
//
//   import { Plugin, t } from "./plue-plugin.js";
//   export const plugin = new Plugin("hello", "0.1.0", "Greets people.");
//   plugin.tool({
//     name: "greet", description: "Greet someone by name.", readOnly: true,
//     args: { name: t.string("Who to greet.") },
//   }, ({ name }) => ({ text: `hello, ${name}`, structured: { greeting: `hello, ${name}` } }));
//   plugin.prompt({ name: "hello-brief", description: "Greet, as a prompt.",
//     arguments: { name: "Who to greet." }, required: ["name"] },
//     (args) => Briefing.text(`Say hello to ${args.required("name")}.`));
//   plugin.resources({ uriTemplate: "plue://hello/{name}", name: "greeting", description: "A greeting.",
//     list: () => [new Link(expand("plue://hello/{name}", { name: "world" }), "world")] },
//     (vars) => [Contents.text(vars.uri, "text/plain", `hello, ${vars.get("name")}`)]);
//   plugin.completion("name", (c) => c.filter(["world", "wasm"]));
//
// The host functions are bound by component.js (the component's entry point) or,
// natively, by plue-testing.js, so plugin logic runs under `node --test` unchanged.

/** The tool could not answer; the message is shown to the agent. Say what to do. */
export class ToolError extends Error {
  constructor(message, kind = "failed") {
    super(message);
    this.kind = kind;
  }
}

/** The arguments were not acceptable: name the argument and what was expected. */
export class InvalidArguments extends ToolError {
  constructor(message) {
    super(message, "invalid-arguments");
  }
}

/** The host refused or could not serve a capability call; `code` is the WIT case. */
export class CapabilityError extends ToolError {
  constructor(code, message) {
    super(`${code.replaceAll("-", " ")}: ${message}`);
    this.code = code;
  }
}

// ------------------------------------------------------------------ schema

const OPTIONAL = Symbol("optional");

/** Schema builders. Each takes a description and extra JSON Schema keywords;
 *  `.optional(default)` on the result makes the argument not required. */
function prop(schema) {
  return Object.assign(schema, {
    optional(defaultValue) {
      const copy = { ...this };
      delete copy.optional;
      if (defaultValue !== undefined) copy.default = defaultValue;
      copy[OPTIONAL] = true;
      return copy;
    },
  });
}

export const t = {
  string: (description, extra = {}) => prop({ type: "string", description, ...extra }),
  integer: (description, extra = {}) => prop({ type: "integer", description, ...extra }),
  number: (description, extra = {}) => prop({ type: "number", description, ...extra }),
  boolean: (description, extra = {}) => prop({ type: "boolean", description, ...extra }),
  enum: (values, description) => prop({ type: "string", enum: values, description }),
  array: (items, description, extra = {}) => prop({ type: "array", items: clean(items), description, ...extra }),
  object: (properties, description) => prop({ ...objectSchema(properties), ...(description ? { description } : {}) }),
};

function clean(schema) {
  const out = {};
  for (const [k, v] of Object.entries(schema)) if (typeof v !== "function") out[k] = v;
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, clean(v)]));
  }
  if (out.items) out.items = clean(out.items);
  return out;
}

/** `{ name: t.string(...), ... }` as a JSON Schema object. */
export function objectSchema(properties) {
  const required = Object.entries(properties)
    .filter(([, s]) => !s[OPTIONAL])
    .map(([k]) => k);
  const schema = {
    type: "object",
    properties: Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, clean(s)])),
    additionalProperties: false,
  };
  if (required.length) schema.required = required;
  return schema;
}

// ------------------------------------------------------------------ prompts, resources, completions

/** The most values one completion returns (MCP's cap). */
export const MAX_COMPLETIONS = 100;

/** `template` as parts `{ literal }` or `{ name, reserved }`: the subset of RFC 6570
 *  resource families use (`{name}` one path segment, `{+name}` the rest of the URI). */
function templateParts(template) {
  const parts = [];
  let rest = template;
  while (rest) {
    const start = rest.indexOf("{");
    if (start === 0) {
      const end = rest.indexOf("}");
      if (end < 0) throw new Error(`\`${template}\`: \`{\` without \`}\``);
      const inner = rest.slice(1, end);
      const reserved = inner.startsWith("+");
      const name = reserved ? inner.slice(1) : inner;
      if (!/^[a-z0-9_]+$/.test(name)) {
        throw new Error(`\`${template}\`: variable \`${inner}\` must be lowercase letters, digits and _ (optionally after +)`);
      }
      if (parts.length && parts.at(-1).name) throw new Error(`\`${template}\`: two variables need a literal between them`);
      parts.push({ name, reserved });
      rest = rest.slice(end + 1);
    } else {
      const cut = start < 0 ? rest.length : start;
      parts.push({ literal: rest.slice(0, cut) });
      rest = rest.slice(cut);
    }
  }
  return parts;
}

function percentEncode(value, reserved) {
  return [...new TextEncoder().encode(String(value))]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-._~]/.test(c) || (reserved && c === "/") ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

/** The URI of the member of `template` with these variable values, percent-encoded
 *  as the host decodes them (`/` kept only in a `{+name}`). */
export function expand(template, values) {
  return templateParts(template)
    .map((p) => (p.name ? percentEncode(values[p.name], p.reserved) : p.literal))
    .join("");
}

/** The variables (percent-decoded) when `uri` is a member of `template`, as the host matches; else null. */
export function matchUri(template, uri) {
  const parts = templateParts(template);
  const values = {};
  let rest = uri;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!p.name) {
      if (!rest.startsWith(p.literal)) return null;
      rest = rest.slice(p.literal.length);
      continue;
    }
    const next = parts[i + 1]?.literal;
    const end = next ? rest.indexOf(next) : rest.length;
    if (end <= 0) return null;
    const value = rest.slice(0, end);
    if (!p.reserved && value.includes("/")) return null;
    try {
      values[p.name] = decodeURIComponent(value);
    } catch {
      return null;
    }
    rest = rest.slice(end);
  }
  return rest ? null : values;
}

/** A prompt's arguments as the user gave them (text; empty values count as absent). */
export class PromptArgs {
  constructor(pairs = []) {
    this.values = new Map(
      (Array.isArray(pairs) ? pairs : Object.entries(pairs)).map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v),
    );
  }

  /** The value of `name`, if given. */
  get(name) {
    return this.values.get(name);
  }

  /** The value of `name`, or InvalidArguments saying it is needed. */
  required(name) {
    if (!this.values.has(name)) throw new InvalidArguments(`argument \`${name}\` is required`);
    return this.values.get(name);
  }

  /** Whether the flag `name` is on: `true`, `yes`, `y`, `1` or `on`. */
  flag(name) {
    return ["true", "yes", "y", "1", "on"].includes((this.values.get(name) ?? "").toLowerCase());
  }
}

/** One concrete resource: a member a lister returns, or a link in a prompt.
 *  `opts`: `{ title, description, mimeType, size }`. */
export class Link {
  constructor(uri, name, opts = {}) {
    Object.assign(this, { uri, name, ...opts });
  }
}

/** A resource's contents: `Contents.text(uri, mime, text)` or `Contents.blob(uri, mime, bytes)`. */
export class Contents {
  constructor(uri, mimeType, body) {
    Object.assign(this, { uri, mimeType, body });
  }

  static text(uri, mimeType, text) {
    return new Contents(uri, mimeType, String(text));
  }

  static blob(uri, mimeType, bytes) {
    return new Contents(uri, mimeType, Uint8Array.from(bytes));
  }

  asText() {
    return typeof this.body === "string" ? this.body : undefined;
  }

  asBytes() {
    return this.body instanceof Uint8Array ? this.body : undefined;
  }
}

/** A rendered prompt: user messages for the model, most useful first.
 *  `Briefing.text("2 tests flaky").withText("Next: flaky_trend").withLink(new Link(...))` */
export class Briefing {
  constructor() {
    this.description = undefined;
    this.messages = []; // strings, Links and Contents
  }

  static text(text) {
    return new Briefing().withText(text);
  }

  /** One line on what this rendering is about. */
  described(description) {
    this.description = description;
    return this;
  }

  withText(text) {
    this.messages.push(String(text));
    return this;
  }

  /** Embed a resource's contents. */
  withResource(contents) {
    this.messages.push(contents);
    return this;
  }

  /** Link a resource the client can read. */
  withLink(link) {
    this.messages.push(link);
    return this;
  }

  texts() {
    return this.messages.filter((m) => typeof m === "string");
  }

  resourceUris() {
    return this.messages.filter((m) => typeof m !== "string").map((m) => m.uri);
  }
}

/** The URI being read and its template variables' values (percent-decoded). */
export class Vars {
  constructor(uri, values = []) {
    this.uri = uri;
    this.values = new Map(Array.isArray(values) ? values : Object.entries(values));
  }

  get(name) {
    if (!this.values.has(name)) throw new InvalidArguments(`\`${this.uri}\` has no variable \`${name}\``);
    return this.values.get(name);
  }
}

/** What is being completed: the text typed so far (`value`) and the other arguments (`context`). */
export class Completing {
  constructor(value = "", context = {}) {
    this.value = value;
    this.context = context;
  }

  /** Whether `candidate` continues what was typed (case-insensitive prefix). */
  matches(candidate) {
    return candidate.toLowerCase().startsWith(this.value.toLowerCase());
  }

  /** `candidates` that continue what was typed, in their order. */
  filter(candidates) {
    return [...candidates].filter((c) => this.matches(c));
  }
}

// ------------------------------------------------------------------ plugin

export class Plugin {
  constructor(name, version, description) {
    Object.assign(this, { name, version, description });
    this.tools = new Map();
    this.capabilities = { http: [], sql: [], directories: [] };
    this.settings = [];
    this.prompts = new Map();
    this.templates = new Map();
    this.completers = new Map();
  }

  /** Ask for the HTTP endpoint `name` (the operator grants it by name). */
  http(name) {
    this.capabilities.http.push(name);
    return this;
  }

  /** Ask for the PostgreSQL database `name`. */
  sql(name) {
    this.capabilities.sql.push(name);
    return this;
  }

  /** Ask for the directory `name`, mounted read-only at `/<name>`. */
  directory(name) {
    this.capabilities.directories.push(name);
    return this;
  }

  /** Declare a setting the operator may set in `[plugins.<name>.settings]`. */
  setting(key, defaultValue, description) {
    this.settings.push({ key, description, defaultValue });
    return this;
  }

  /** Register a tool. `args` maps argument names to `t.*` schemas; `output` is the
   *  structured answer's schema (a `t.object`). The handler gets the arguments and
   *  returns `{ text, structured?, isError? }` or a string; it may throw ToolError. */
  tool(def, handler) {
    const { name, description, title, args = {}, output, readOnly = false, destructive = false, idempotent = false, openWorld = false } = def;
    if (!/^[a-z0-9_]{1,64}$/.test(name)) throw new Error(`tool name \`${name}\`: lowercase letters, digits and _`);
    this.tools.set(name, {
      name,
      title,
      description,
      inputSchema: objectSchema(args),
      outputSchema: output ? clean(output) : undefined,
      annotations: { readOnly, destructive: destructive && !readOnly, idempotent: idempotent || readOnly, openWorld },
      handler,
      defaults: Object.fromEntries(Object.entries(args).filter(([, s]) => "default" in s).map(([k, s]) => [k, s.default])),
    });
    return this;
  }

  /** Register a prompt: `{ name, description, title?, arguments?: { name: what to pass }, required?: [names] }`.
   *  The handler gets PromptArgs and returns a Briefing or a string; it may throw ToolError. */
  prompt(def, handler) {
    const { name, description, title, arguments: args = {}, required = [] } = def;
    if (!/^[a-z0-9_-]{1,64}$/.test(name)) throw new Error(`prompt name \`${name}\`: lowercase letters, digits, - and _`);
    for (const r of required) if (!(r in args)) throw new Error(`prompt \`${name}\`: required \`${r}\` is not among its arguments`);
    this.prompts.set(name, {
      name,
      title,
      description,
      arguments: Object.entries(args).map(([a, d]) => ({ name: a, description: d, required: required.includes(a) })),
      handler,
    });
    return this;
  }

  /** Register a resource family: `{ uriTemplate, name, description, title?, mimeType?, list?: () => [Link] }`
   *  (`{name}` one path segment, `{+name}` the rest). The reader gets Vars and returns [Contents]. */
  resources(def, reader) {
    const { uriTemplate, name, description, title, mimeType, list = () => [] } = def;
    templateParts(uriTemplate); // a malformed template fails at load, not at read
    this.templates.set(uriTemplate, { uriTemplate, name, description, title, mimeType, list, reader });
    return this;
  }

  /** Suggest values for every prompt argument and template variable named `argument`:
   *  `completer(Completing)` returns candidates best first (the first 100 are sent). */
  completion(argument, completer) {
    this.completers.set(argument, completer);
    return this;
  }

  /** Render prompt `name` with [name, value] pairs: a Briefing. Throws ToolError. */
  render(name, pairs) {
    const prompt = this.prompts.get(name);
    const args = new PromptArgs(pairs);
    for (const a of prompt.arguments) if (a.required) args.required(a.name);
    const known = prompt.arguments.map((a) => a.name);
    for (const given of args.values.keys()) {
      if (!known.includes(given)) {
        throw new InvalidArguments(`prompt \`${name}\` has no argument \`${given}\`; its arguments: ${known.join(", ") || "none"}`);
      }
    }
    const out = prompt.handler(args);
    return typeof out === "string" ? Briefing.text(out) : out;
  }

  /** Every family's members, in declaration order. */
  listResources() {
    return [...this.templates.values()].flatMap((t) => t.list());
  }

  /** Read `uri` of the family `uriTemplate` with its [name, value] variables: [Contents]. */
  read(uri, uriTemplate, variables) {
    return this.templates.get(uriTemplate).reader(new Vars(uri, variables));
  }

  /** `{ values, total }`: the first MAX_COMPLETIONS suggestions for `argument`, and how many there were. */
  complete(argument, value, context = []) {
    const completer = this.completers.get(argument);
    if (!completer) return { values: [], total: 0 };
    const all = [...completer(new Completing(value, Object.fromEntries(context)))];
    return { values: all.slice(0, MAX_COMPLETIONS), total: all.length };
  }

  /** Run tool `name` on JSON `argumentsJson`: `{ text, structured, isError }`. Throws ToolError. */
  run(name, argumentsJson) {
    const tool = this.tools.get(name);
    let args;
    try {
      args = JSON.parse(argumentsJson || "{}");
    } catch (e) {
      throw new InvalidArguments(`arguments are not JSON: ${e.message}`);
    }
    let answer = tool.handler({ ...tool.defaults, ...args });
    if (typeof answer === "string") answer = { text: answer };
    return { text: answer.text, structured: answer.structured, isError: Boolean(answer.isError) };
  }

  /** The world's four exports: `{ tools, prompts, resources, completions }`. */
  exports() {
    const tools = {
      manifest: () => ({
        name: this.name,
        version: this.version,
        description: this.description,
        tools: [...this.tools.values()].map((tool) => ({
          name: tool.name,
          title: tool.title,
          description: tool.description,
          inputSchema: JSON.stringify(tool.inputSchema),
          outputSchema: tool.outputSchema ? JSON.stringify(tool.outputSchema) : undefined,
          annotations: tool.annotations,
        })),
        capabilities: this.capabilities,
        settings: this.settings,
        prompts: [...this.prompts.values()].map(({ name, title, description, arguments: args }) => ({ name, title, description, arguments: args })),
        resourceTemplates: [...this.templates.values()].map(({ uriTemplate, name, title, description, mimeType }) => ({
          uriTemplate,
          name,
          title,
          description,
          mimeType,
        })),
      }),
      callTool: (name, argumentsJson) => {
        if (!this.tools.has(name)) throw witError("unknown-tool", name);
        let answer;
        try {
          answer = this.run(name, argumentsJson);
        } catch (e) {
          if (e instanceof ToolError) throw witError(e.kind, e.message);
          throw e; // a bug: the host reports the trap with the plugin's stderr
        }
        return {
          content: [{ tag: "text", val: answer.text }],
          structured: answer.structured === undefined ? undefined : JSON.stringify(answer.structured),
          isError: answer.isError,
        };
      },
    };
    const prompts = {
      getPrompt: (name, pairs) => {
        if (!this.prompts.has(name)) throw witError("unknown-tool", name);
        const briefing = guarded(() => this.render(name, pairs));
        return {
          description: briefing.description,
          messages: briefing.messages.map((m) => ({ role: "user", content: witContent(m) })),
        };
      },
    };
    const resources = {
      listResources: () => guarded(() => this.listResources().map(witLink)),
      readResource: (uri, uriTemplate, variables) => {
        if (!this.templates.has(uriTemplate)) throw witError("unknown-tool", uriTemplate);
        return guarded(() => this.read(uri, uriTemplate, variables).map(witContents));
      },
    };
    const completions = {
      complete: (_target, argument, value, context) => {
        const { values, total } = guarded(() => this.complete(argument, value, context));
        return { values, total, hasMore: total > values.length };
      },
    };
    return { tools, prompts, resources, completions };
  }
}

/** `run()`, its ToolError thrown as the WIT `tool-error` the host reports. */
function guarded(run) {
  try {
    return run();
  } catch (e) {
    if (e instanceof ToolError) throw witError(e.kind, e.message);
    throw e;
  }
}

function witLink(link) {
  return {
    uri: link.uri,
    name: link.name,
    title: link.title,
    description: link.description,
    mimeType: link.mimeType,
    size: link.size === undefined ? undefined : BigInt(link.size),
  };
}

function witContents(c) {
  return {
    uri: c.uri,
    mimeType: c.mimeType,
    body: typeof c.body === "string" ? { tag: "text", val: c.body } : { tag: "blob", val: c.body },
  };
}

function witContent(m) {
  if (typeof m === "string") return { tag: "text", val: m };
  if (m instanceof Contents) return { tag: "embedded", val: witContents(m) };
  return { tag: "resource-link", val: witLink(m) };
}

/** A `tool-error` for componentize-js: a thrown value whose `payload` is the WIT variant. */
function witError(tag, val) {
  return { payload: { tag, val } };
}

// ------------------------------------------------------------------ host capabilities

let host = null;

/** Bind the capability functions: component.js passes the WIT imports, tests pass fakes. */
export function bindHost(functions) {
  host = functions;
}

function capability(what, call) {
  try {
    return call();
  } catch (e) {
    const payload = e && Object.hasOwn(e, "payload") ? e.payload : e;
    if (e && Object.hasOwn(e, "payload") && typeof payload === "string") {
      throw new CapabilityError(payload, what); // a wasi:filesystem error-code
    }
    if (payload && typeof payload.tag === "string") {
      const detail = typeof payload.val === "string" ? payload.val : JSON.stringify(payload.val);
      throw new CapabilityError(payload.tag, `${what}: ${detail}`);
    }
    if (e instanceof ToolError) throw e;
    throw new ToolError(`${what}: ${e && e.message ? e.message : String(e)}`);
  }
}

/** `k=v&…`, percent-encoded as the host requires. */
export function queryString(pairs) {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

/** A granted HTTP endpoint, named as in the manifest. */
export class Endpoint {
  constructor(name) {
    this.name = name;
  }

  /** One request: `{ status, headers, body: Uint8Array }`. Throws CapabilityError. */
  fetch(method, path, { query = [], headers = [], body } = {}) {
    const pathAndQuery = query.length ? `${path}?${queryString(query)}` : path;
    return capability(`endpoint \`${this.name}\``, () =>
      host.fetch({ endpoint: this.name, method, pathAndQuery, headers, body }),
    );
  }

  /** `GET path?query` as JSON; a non-2xx status is a ToolError naming the endpoint. */
  getJson(path, query = []) {
    const r = this.fetch("get", path, { query, headers: [["accept", "application/json"]] });
    const text = new TextDecoder().decode(r.body);
    if (r.status < 200 || r.status >= 300) {
      throw new ToolError(`endpoint \`${this.name}\` answered HTTP ${r.status} for ${path}: ${text.trim().slice(0, 500)}`);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ToolError(`endpoint \`${this.name}\` returned invalid JSON for ${path}: ${e.message}`);
    }
  }
}

/** Run one read-only statement; rows as objects keyed by column name.
 *  Parameters may be null, booleans, numbers (integers as int, others as float) or strings. */
export function sqlQuery(database, statement, params = []) {
  const values = params.map((p) =>
    p === null || p === undefined ? { tag: "null" }
    : typeof p === "boolean" ? { tag: "boolean", val: p }
    : typeof p === "number" ? (Number.isInteger(p) ? { tag: "int", val: BigInt(p) } : { tag: "float", val: p })
    : { tag: "text", val: String(p) },
  );
  const rows = capability(`database \`${database}\``, () => host.query(database, statement, values));
  return rows.rows.map((row) =>
    Object.fromEntries(row.map((cell, i) => {
      let v = cell.val ?? null;
      if (typeof v === "bigint") v = Number(v);
      if (cell.tag === "json") v = JSON.parse(v);
      return [rows.columns[i].name, v];
    })),
  );
}

/** The operator's value for `key`, else the manifest's default, else undefined. */
export function setting(key) {
  return host.settingsGet(key) ?? undefined;
}

/** Log at `trace`, `debug`, `info`, `warn` or `error`. Never log secrets. */
export function log(level, message) {
  host.log(level, message);
}

// ------------------------------------------------------------------ granted directories

/** Read-only access to the granted directory `name` (mounted at `/<name>`). Paths are
 *  relative to it; the host's filesystem refuses anything that leaves it. */
export class Directory {
  constructor(name) {
    this.name = name;
    const found = host.preopens().find(([, path]) => path === `/${name}` || path === name);
    if (!found) {
      throw new CapabilityError("access-denied", `directory \`${name}\` is not granted to this plugin`);
    }
    this.root = found[0];
  }

  #open(relative) {
    const path = relative === "" ? "." : relative;
    return capability(`directory \`${this.name}\` path \`${path}\``, () =>
      this.root.openAt({}, path, {}, { read: true }),
    );
  }

  /** Entries of `relative` (a directory): `[{ name, type }]`, type `directory`, `regular-file`, …. */
  list(relative = "") {
    const dir = this.#open(relative);
    return capability(`directory \`${this.name}\` path \`${relative || "."}\``, () => {
      const stream = dir.readDirectory();
      const entries = [];
      for (let e = stream.readDirectoryEntry(); e; e = stream.readDirectoryEntry()) entries.push(e);
      return entries;
    });
  }

  /** Files under `relative`, recursively, as relative paths, at most `max` (then `cut` is true). */
  walk(relative = "", max = 1000) {
    const files = [];
    const pending = [relative];
    while (pending.length) {
      const dir = pending.shift();
      for (const e of this.list(dir)) {
        const path = dir ? `${dir}/${e.name}` : e.name;
        if (e.type === "directory") pending.push(path);
        else if (e.type === "regular-file") {
          if (files.length === max) return { files, cut: true };
          files.push(path);
        }
      }
    }
    return { files: files.sort(), cut: false };
  }

  /** The bytes of the file `relative`, at most `limit` (then throws, naming the size). */
  read(relative, limit = 16 << 20) {
    const file = this.#open(relative);
    return capability(`directory \`${this.name}\` file \`${relative}\``, () => {
      const size = Number(file.stat().size);
      if (size > limit) {
        throw new ToolError(`directory \`${this.name}\` file \`${relative}\` is ${size} bytes, over the ${limit}-byte limit`);
      }
      const out = new Uint8Array(size);
      let offset = 0;
      while (offset < size) {
        const [chunk, end] = file.read(BigInt(Math.min(size - offset, 1 << 20)), BigInt(offset));
        out.set(chunk, offset);
        offset += chunk.length;
        if (end || chunk.length === 0) break;
      }
      return out.subarray(0, offset);
    });
  }

  /** The file `relative` parsed as JSON. */
  readJson(relative, limit) {
    const text = new TextDecoder().decode(this.read(relative, limit));
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ToolError(`directory \`${this.name}\` file \`${relative}\` is not JSON: ${e.message}`);
    }
  }
}
