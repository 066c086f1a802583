// The official TypeScript MCP SDK client, driven by a call plan (tests/e2e/clients.rs).
//
// Usage: node ts_client.mjs PLAN.json --url http://127.0.0.1:PORT/mcp
//        node ts_client.mjs PLAN.json -- COMMAND [ARGS...]     (stdio)
// Over HTTP, MCP_BEARER_TOKEN (when set) is sent as `Authorization: Bearer …`.
//
// PLAN.json: {"calls": [{"tool", "arguments", "expect": "ok" | "error", "contains": [..]}],
//             "context": {...}} (optional; see runContext below: prompts, resources, completions).
// Lists the tools (the SDK validates the listing and compiles every outputSchema), calls each
// planned tool (the SDK checks structuredContent against the outputSchema), and compares each
// answer with the plan. Prints one line per tool; exits 1 naming tool and reason on any
// rejection, client warning or broken expectation, 2 on bad usage.

import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResultSchema } from '@modelcontextprotocol/sdk/types.js';

const SDK_VERSION = JSON.parse(
  readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8'),
).version;

function usage(message) {
  console.error(`ts_client: ${message}\nusage: node ts_client.mjs PLAN.json (--url URL | -- COMMAND [ARGS...])`);
  process.exit(2);
}

function parseArgs(argv) {
  const [planPath, mode, ...rest] = argv;
  if (!planPath) usage('missing PLAN.json');
  if (mode === '--url' && rest.length === 1) return { planPath, url: rest[0] };
  if (mode === '--' && rest.length >= 1) return { planPath, command: rest[0], args: rest.slice(1) };
  usage('give --url URL or -- COMMAND');
}

function transportFor(opts) {
  if (opts.url) {
    const token = process.env.MCP_BEARER_TOKEN;
    const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;
    return { label: 'streamable HTTP', transport: new StreamableHTTPClientTransport(new URL(opts.url), { requestInit }) };
  }
  const transport = new StdioClientTransport({
    command: opts.command,
    args: opts.args,
    env: { ...process.env },
    stderr: 'inherit',
  });
  return { label: 'stdio', transport };
}

const oneLine = (s, max = 300) => {
  const flat = String(s).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
};

// Everything the client or the validator says on its own (Ajv's `unknown format "uint"
// ignored`, transport errors) counts against the tool being listed or called at the time.
const noises = [];
let phase = 'connect';
for (const level of ['warn', 'error']) {
  console[level] = (...parts) => noises.push({ phase, text: parts.map(String).join(' ') });
}

function textOf(result) {
  return (result.content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

// What is wrong with one answer given its plan entry, or null.
function judge(entry, result) {
  const text = textOf(result);
  const isError = result.isError === true;
  const expectError = entry.expect === 'error';
  if (isError && !expectError) return `expected success, got isError: ${oneLine(text)}`;
  if (!isError && expectError) return `expected isError, got success: ${oneLine(text)}`;
  const missing = (entry.contains ?? []).filter((needle) => !text.includes(needle));
  if (missing.length) return `answer lacks ${missing.map((m) => JSON.stringify(m)).join(', ')}: ${oneLine(text)}`;
  return null;
}

// Every page of tools/list, through the SDK's validating `listTools`, or (raw) as sent.
async function listAll(client, raw = false) {
  const tools = [];
  let cursor;
  do {
    const params = cursor ? { cursor } : undefined;
    const page = raw
      ? await client.request({ method: 'tools/list', params }, ResultSchema)
      : await client.listTools(params);
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

// The SDK's Zod issues name tools by index: name them by tool.
function describeListingError(error, rawTools) {
  let issues;
  try {
    issues = JSON.parse(error?.message);
  } catch {
    return oneLine(error?.message ?? error, 2000);
  }
  if (!Array.isArray(issues)) return oneLine(error?.message, 2000);
  return issues
    .map((issue) => {
      const [, index, ...rest] = issue.path ?? [];
      const tool = rawTools?.[index]?.name ?? `#${index}`;
      return `${tool}: ${rest.join('.')}: ${issue.message}`;
    })
    .join('; ');
}

const PNG_SIGNATURE = '89504e470d0a1a0a';

// What is wrong with a text, given the needles it must contain, or null.
const lacks = (text, needles) => {
  const missing = (needles ?? []).filter((n) => !text.includes(n));
  return missing.length ? `lacks ${missing.map((m) => JSON.stringify(m)).join(', ')}: ${oneLine(text)}` : null;
};

// Prompts, resources and completions, through the SDK's validating methods. Each check
// is one line; returns the failures.
async function runContext(client, context) {
  const failures = [];
  const check = async (label, fn) => {
    phase = label;
    const started = Date.now();
    let problem;
    try {
      problem = await fn();
    } catch (error) {
      problem = `rejected: ${oneLine(error?.message ?? error, 1000)}`;
    }
    console.log(`${problem ? 'FAIL' : 'ok  '}  ${label}  ${Date.now() - started} ms${problem ? `  ${problem}` : ''}`);
    if (problem) failures.push(`${label}: ${problem}`);
  };
  await check('prompts/list', async () => {
    const { prompts } = await client.listPrompts();
    const names = prompts.map((p) => p.name);
    const missing = (context.prompt_names ?? []).filter((n) => !names.includes(n));
    return missing.length ? `missing ${missing.join(', ')} (listed: ${names.join(', ')})` : null;
  });
  for (const p of context.prompts ?? []) {
    await check(`prompts/get ${p.name} ${JSON.stringify(p.arguments ?? {})}`, async () => {
      let result;
      try {
        result = await client.getPrompt({ name: p.name, arguments: p.arguments ?? {} });
      } catch (error) {
        if (p.expect === 'error') return lacks(String(error?.message ?? error), p.contains);
        throw error;
      }
      if (p.expect === 'error') return `expected an error, got ${result.messages.length} messages`;
      const text = result.messages.map((m) => (m.content.type === 'text' ? m.content.text : m.content.type === 'resource_link' ? m.content.uri : '')).join('\n');
      return lacks(text, p.contains);
    });
  }
  await check('resources/templates/list', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    const listed = resourceTemplates.map((t) => t.uriTemplate);
    const missing = (context.templates ?? []).filter((t) => !listed.includes(t));
    return missing.length ? `missing ${missing.join(', ')}` : null;
  });
  await check('resources/list', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    const missing = (context.listed ?? []).filter((u) => !uris.includes(u));
    return missing.length ? `missing ${missing.join(', ')} (${uris.length} listed)` : null;
  });
  for (const r of context.reads ?? []) {
    await check(`resources/read ${r.uri}`, async () => {
      let result;
      try {
        result = await client.readResource({ uri: r.uri });
      } catch (error) {
        if (r.expect === 'error') return lacks(String(error?.message ?? error), r.contains);
        throw error;
      }
      if (r.expect === 'error') return `expected an error, got ${result.contents.length} contents`;
      const [c] = result.contents;
      if (!c) return 'no contents';
      if (r.mime && c.mimeType !== r.mime) return `mimeType ${c.mimeType}, expected ${r.mime}`;
      if (r.png) {
        const bytes = Buffer.from(c.blob ?? '', 'base64');
        if (bytes.subarray(0, 8).toString('hex') !== PNG_SIGNATURE) return 'blob is not a PNG';
        if (r.bytes && bytes.length !== r.bytes) return `${bytes.length} bytes, expected ${r.bytes}`;
        return null;
      }
      return lacks(c.text ?? '', r.contains);
    });
  }
  for (const c of context.completions ?? []) {
    const ref = c.prompt ? { type: 'ref/prompt', name: c.prompt } : { type: 'ref/resource', uri: c.template };
    await check(`completion/complete ${c.prompt ?? c.template} ${c.argument}=${JSON.stringify(c.value)}`, async () => {
      const params = { ref, argument: { name: c.argument, value: c.value } };
      if (c.context) params.context = { arguments: c.context };
      const { completion } = await client.complete(params);
      const missing = (c.includes ?? []).filter((v) => !completion.values.includes(v));
      if (missing.length) return `lacks ${missing.join(', ')} (got ${completion.values.slice(0, 10).join(', ')})`;
      if (c.first && completion.values[0] !== c.first) return `first is ${completion.values[0]}, expected ${c.first}`;
      const stray = completion.values.filter((v) => !v.toLowerCase().startsWith(c.value.toLowerCase()));
      return stray.length ? `values not starting with ${c.value}: ${stray.slice(0, 5).join(', ')}` : null;
    });
  }
  return failures;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const plan = JSON.parse(readFileSync(opts.planPath, 'utf8'));
  const { label, transport } = transportFor(opts);
  const name = `typescript-sdk ${SDK_VERSION} over ${label}`;
  const client = new Client({ name: 'plue-clients-test', version: '0' });
  client.onerror = (error) => noises.push({ phase, text: `transport error: ${error?.message ?? error}` });

  const failures = [];
  try {
    await client.connect(transport);
  } catch (error) {
    console.log(`FAIL  initialize  ${oneLine(error?.message ?? error)}`);
    console.log(`${name}: could not connect`);
    process.exit(1);
  }

  phase = 'tools/list';
  let tools;
  try {
    tools = await listAll(client);
    console.log(`ok    tools/list  ${tools.length} tools`);
  } catch (error) {
    // A real client stops here. Go on with the raw listing, compiled by the SDK's own
    // validator, so the calls' rejections show too.
    const raw = await listAll(client, true).catch(() => undefined);
    console.log(`FAIL  tools/list  rejected by the client: ${describeListingError(error, raw)}`);
    failures.push('tools/list');
    if (raw) {
      tools = raw;
      client.cacheToolMetadata(raw);
      console.log(`      (calls below use the raw listing, ${raw.length} tools)`);
    }
  }
  if (tools) {
    const listed = new Set(tools.map((t) => t.name));
    for (const entry of plan.calls) {
      if (listed.has(entry.tool)) continue;
      console.log(`FAIL  ${entry.tool}  planned but not listed`);
      failures.push(`${entry.tool}: planned but not listed`);
    }
    for (const entry of plan.calls.filter((e) => listed.has(e.tool))) {
      phase = entry.tool;
      const started = Date.now();
      let problem;
      let size = 0;
      try {
        const result = await client.callTool({ name: entry.tool, arguments: entry.arguments ?? {} });
        size = JSON.stringify(result).length;
        problem = judge(entry, result);
      } catch (error) {
        problem = `rejected by the client: ${oneLine(error?.message ?? error, 1000)}`;
      }
      const ms = Date.now() - started;
      console.log(`${problem ? 'FAIL' : 'ok  '}  ${entry.tool}  ${entry.expect}  ${ms} ms  ${size} B${problem ? `  ${problem}` : ''}`);
      if (problem) failures.push(`${entry.tool}: ${problem}`);
    }
  }
  if (plan.context) failures.push(...(await runContext(client, plan.context)));
  phase = 'close';
  await client.close().catch((error) => noises.push({ phase, text: `close: ${error?.message ?? error}` }));

  const byPhase = new Map();
  for (const { phase: p, text } of noises) byPhase.set(p, [...(byPhase.get(p) ?? []), text]);
  for (const [p, texts] of byPhase) {
    const distinct = [...new Set(texts)];
    console.log(`FAIL  ${p}  ${texts.length} client warning(s): ${distinct.slice(0, 5).map((t) => oneLine(t, 200)).join(' | ')}`);
    failures.push(`${p}: ${texts.length} client warning(s)`);
  }
  const called = tools ? plan.calls.length : 0;
  console.log(`${name}: ${tools?.length ?? 0} tools listed, ${called} planned calls, ${failures.length} failure(s)`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((error) => {
  console.log(`FAIL  driver  ${error?.stack ?? error}`);
  process.exit(1);
});
