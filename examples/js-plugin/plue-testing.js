// Native stand-ins for the host capabilities, so plugin logic runs under `node --test`
// with no component and no host. Directories are served from real folders on disk
// through a tiny imitation of wasi:filesystem's descriptor.

import fs from "node:fs";
import nodePath from "node:path";

import { bindHost, matchUri } from "./plue-plugin.js";

function descriptor(root) {
  const refuse = (code) => Object.assign(new Error(code), { payload: code });
  const resolve = (p) => {
    const full = nodePath.resolve(root, p);
    if (full !== root && !full.startsWith(root + nodePath.sep)) throw refuse("not-permitted");
    if (!fs.existsSync(full)) throw refuse("no-entry");
    return full;
  };
  return {
    openAt: (_flags, p) => descriptor(resolve(p)),
    readDirectory: () => {
      const entries = fs.readdirSync(root, { withFileTypes: true }).map((e) => ({
        name: e.name,
        type: e.isDirectory() ? "directory" : e.isFile() ? "regular-file" : "unknown",
      }));
      return { readDirectoryEntry: () => entries.shift() };
    },
    stat: () => ({ size: BigInt(fs.statSync(root).size) }),
    read: (length, offset) => {
      const data = fs.readFileSync(root).subarray(Number(offset), Number(offset) + Number(length));
      return [data, Number(offset) + data.length >= fs.statSync(root).size];
    },
  };
}

/** Bind fakes: `directories` maps granted names to folders; `http`, `query` replace the capabilities. */
export function fakeHost({ directories = {}, settings = {}, http, query } = {}) {
  const logs = [];
  const refuse = (what) => () => {
    throw { payload: { tag: "access-denied", val: `no fake ${what} host` } };
  };
  bindHost({
    fetch: http ?? refuse("HTTP"),
    query: query ?? refuse("SQL"),
    log: (level, message) => logs.push([level, message]),
    settingsGet: (key) => settings[key],
    preopens: () => Object.entries(directories).map(([name, dir]) => [descriptor(nodePath.resolve(dir)), `/${name}`]),
  });
  return { logs };
}

/** Run `tool` as the host would, minus the schema check; throws ToolError. */
export function call(plugin, tool, args) {
  return plugin.run(tool, JSON.stringify(args));
}

/** Render prompt `name` as the host would: a Briefing; throws ToolError. */
export function prompt(plugin, name, args = {}) {
  return plugin.render(name, Object.entries(args));
}

/** Every resource the plugin lists now. */
export function listResources(plugin) {
  return plugin.listResources();
}

/** Read `uri` through the family whose template matches it, as the host routes; throws ToolError. */
export function read(plugin, uri) {
  for (const template of plugin.templates.keys()) {
    const vars = matchUri(template, uri);
    if (vars) return plugin.read(uri, template, Object.entries(vars));
  }
  throw new Error(`no resource template of \`${plugin.name}\` matches ${uri}`);
}

/** The suggestions for `argument` after typing `value`. */
export function complete(plugin, argument, value, context = {}) {
  return plugin.complete(argument, value, Object.entries(context)).values;
}
