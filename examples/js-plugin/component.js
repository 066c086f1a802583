// The component's entry point: binds plue-plugin.js to the WIT imports (the host
// capabilities and wasi:filesystem's preopens) and exports the plugin's `tools`,
// `prompts`, `resources` and `completions`.
// build.sh bundles this file with app.js and plue-plugin.js and componentizes it.

import { fetch } from "plue:plugin/http@0.2.0";
import { log } from "plue:plugin/log@0.2.0";
import { get } from "plue:plugin/settings@0.2.0";
import { query } from "plue:plugin/sql@0.2.0";
import { getDirectories } from "wasi:filesystem/preopens@0.2.12";

import { plugin } from "./app.js";
import { bindHost } from "./plue-plugin.js";

bindHost({ fetch, query, log, settingsGet: get, preopens: getDirectories });

const exported = plugin.exports();
export const tools = exported.tools;
export const prompts = exported.prompts;
export const resources = exported.resources;
export const completions = exported.completions;
