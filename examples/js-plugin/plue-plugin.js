// Write a plue-mcp tool group in JavaScript: what the Rust SDK (sdk/) gives Rust authors.
//
// A plugin is a WASI 0.2 component built by componentize-js against wit/plugin.wit.
// This module turns handler functions with a declared argument schema into the
// `plue:plugin/tools` export, and wraps the host capabilities (HTTP to named
// endpoints, read-only SQL, settings, log, granted directories) in small helpers
// that throw `CapabilityError`s when the host refuses.
//
//   import { Plugin, t } from "./plue-plugin.js";
//   export const plugin = new Plugin("hello", "0.1.0", "Greets people.");
//   plugin.tool({
//     name: "greet", description: "Greet someone by name.", readOnly: true,
//     args: { name: t.string("Who to greet.") },
//   }, ({ name }) => ({ text: `hello, ${name}`, structured: { greeting: `hello, ${name}` } }));
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

// ------------------------------------------------------------------ plugin

export class Plugin {
  constructor(name, version, description) {
    Object.assign(this, { name, version, description });
    this.tools = new Map();
    this.capabilities = { http: [], sql: [], directories: [] };
    this.settings = [];
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

  /** The `plue:plugin/tools` export. */
  exports() {
    return {
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
  }
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
