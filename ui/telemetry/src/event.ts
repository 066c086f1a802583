// One telemetry event as the JSON log line the logs tool group reads: `level`,
// `message`, `service`, `request_id`, `duration_ms`, `stack` and flat scalar fields
// (see plugins/logs/src/line.rs). Pure, tested under Node.

import { MAX_STACK, MAX_TEXT, redactText } from './redact';

export type Level = 'error' | 'warn' | 'info';

/** What every line of one page view carries. */
export interface Common {
  service: string;
  release?: string;
  page_id: string;
  /** The page's URL, redacted. */
  page: string;
}

/** The fields of one event besides the common ones. */
export interface Fields {
  level: Level;
  message: string;
  kind: string;
  request_id?: string;
  duration_ms?: number;
  stack?: string;
  [key: string]: string | number | boolean | undefined;
}

/** The log line: JSON, `level` and `message` first, stack cut, every text redacted. */
export function logLine(common: Common, fields: Fields): string {
  const line: Record<string, string | number | boolean> = {
    level: fields.level,
    message: redactText(fields.message),
    service: common.service,
    source: 'browser',
  };
  if (common.release) line.release = common.release;
  line.request_id = fields.request_id ?? common.page_id;
  line.page_id = common.page_id;
  line.page = common.page;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || key in line || key === 'stack') continue;
    line[key] = typeof value === 'string' ? redactText(value) : value;
  }
  if (fields.stack) line.stack = redactText(fields.stack, MAX_STACK);
  return JSON.stringify(line);
}

/** The message and stack of anything thrown or rejected. */
export function describe(thrown: unknown): { message: string; stack?: string; error_type: string } {
  if (thrown instanceof Error || (thrown && typeof thrown === 'object' && 'message' in thrown)) {
    const e = thrown as Error;
    const name = e.name || 'Error';
    const message = `${name}: ${String(e.message)}`;
    // V8 stacks begin with the message; other engines' do not: make every stack start with it.
    let stack = typeof e.stack === 'string' && e.stack ? e.stack : undefined;
    if (stack && !stack.startsWith(name)) stack = `${message}\n${stack}`;
    return { message: message.slice(0, MAX_TEXT), stack, error_type: name };
  }
  return { message: `non-error value thrown: ${String(thrown).slice(0, 200)}`, error_type: typeof thrown };
}

/** A fresh id: 16 hex digits from `random` (crypto when there is one). */
export function newId(prefix: string, random: () => number = Math.random): string {
  let hex = '';
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.getRandomValues === 'function' && random === Math.random) {
    for (const b of c.getRandomValues(new Uint8Array(8))) hex += b.toString(16).padStart(2, '0');
  } else {
    for (let i = 0; i < 16; i++) hex += Math.floor(random() * 16).toString(16);
  }
  return `${prefix}-${hex}`;
}
