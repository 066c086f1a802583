// What leaves the browser, stripped of what must not: query strings, fragments and
// user:password@ of URLs (in URLs, messages and stack frames alike), and context
// values whose key names a secret. Pure functions, tested under Node.

/** Context keys whose values are never sent (matched case-insensitively, anywhere in the key). */
const SECRET_KEY = /pass|secret|token|auth|cookie|session|credential|api[-_]?key|card|ssn/i;

/** Characters kept of any one text field. */
export const MAX_TEXT = 1000;
/** Characters kept of a stack trace. */
export const MAX_STACK = 8000;

/** `url` as origin and path only: no query string, no fragment, no user or password. */
export function redactUrl(url: string, base?: string): string {
  try {
    const u = new URL(url, base);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.origin + u.pathname;
    return u.protocol + u.pathname.split(/[?#]/)[0];
  } catch {
    return String(url).split(/[?#]/)[0];
  }
}

const URL_IN_TEXT = /\b(?:https?|wss?):\/\/[^\s()'"<>]+/g;

/**
 * Every URL inside `text` (a message, a stack frame) redacted by {@link redactUrl},
 * keeping a trailing `:line:column` of a stack frame.
 */
export function redactText(text: string, max = MAX_TEXT): string {
  const out = String(text).replace(URL_IN_TEXT, (found) => {
    // A stack frame's `:line:column` follows the path (and any query string).
    const pathStart = found.indexOf('/', found.indexOf('://') + 3);
    const position = pathStart >= 0 ? /(?::\d+){1,2}$/.exec(found.slice(pathStart)) : null;
    const tail = position ? position[0] : '';
    return redactUrl(found.slice(0, found.length - tail.length)) + tail;
  });
  return out.length > max ? out.slice(0, max) + '…' : out;
}

/**
 * A caller's context as flat scalar fields: strings redacted and cut, numbers and
 * booleans kept, secrets by key name replaced by `[redacted]`, nested objects,
 * functions and DOM nodes dropped, at most 20 keys.
 */
export function redactContext(context: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (!context || typeof context !== 'object') return out;
  let kept = 0;
  for (const [key, value] of Object.entries(context as Record<string, unknown>)) {
    if (kept >= 20) break;
    if (!/^[A-Za-z_][\w.-]{0,63}$/.test(key)) continue;
    if (SECRET_KEY.test(key)) {
      out[key] = '[redacted]';
    } else if (typeof value === 'string') {
      out[key] = redactText(value, 200);
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      out[key] = value;
    } else {
      continue;
    }
    kept += 1;
  }
  return out;
}
