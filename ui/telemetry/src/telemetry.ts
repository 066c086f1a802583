// Browser telemetry for Plue web apps: uncaught errors and unhandled rejections with
// their stacks, page-load and TTFB timing, failed and slow `fetch` calls, `logError`
// and `withTimeout`, each one JSON log line pushed in batches to a collector that
// forwards Loki push-API bodies to Loki. Every `fetch` to the page's own origin (or to
// `propagateTo`) carries a fresh request id header, so the logs tool group's
// `trace_request` links the browser's line with the server's. No runtime dependencies.

import { type Common, type Fields, describe, logLine, newId } from './event';
import { Queue, batches, sampled } from './queue';
import { redactContext, redactUrl } from './redact';

export { redactContext, redactText, redactUrl } from './redact';
export { Queue, batches, nanos, pushBody, sampled } from './queue';
export { describe, logLine, newId } from './event';

export interface TelemetryOptions {
  /** The `service` label and field, such as `web`. */
  service: string;
  /** The app's version, sent with every line. */
  release?: string;
  /** Where batches are POSTed: a same-origin path such as `/telemetry` is best. */
  collectorUrl: string;
  /** Share of page views (0–1) whose timing events (page load, slow fetches) are sent; errors always are. Default 1. */
  sampleRate?: number;
  /** Stream labels besides `service`. Default `{ job: 'containerlogs', source: 'browser' }`. */
  labels?: Record<string, string>;
  /** A successful fetch slower than this is logged (ms). Default 3000. */
  slowFetchMs?: number;
  /** The header carrying the request id. Default `X-Request-Id`. */
  requestIdHeader?: string;
  /** Other origins whose requests get the header (they must allow it in CORS). */
  propagateTo?: string[];
  /** Most lines held while waiting for a flush (the oldest are dropped). Default 100. */
  maxQueue?: number;
  /** Flush when this many lines are queued. Default 20. */
  batchSize?: number;
  /** Flush this long after the first queued line (ms). Default 5000. */
  flushIntervalMs?: number;
  /** Most bytes of one POST (sendBeacon allows 64 KiB). Default 60000. */
  maxBatchBytes?: number;
}

/** The rejection of {@link withTimeout}. */
export class TimeoutError extends Error {
  constructor(
    readonly operation: string,
    readonly ms: number,
  ) {
    super(`${operation} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

interface State {
  options: Required<Omit<TelemetryOptions, 'release' | 'propagateTo'>> & Pick<TelemetryOptions, 'release'>;
  common: Common;
  labels: Record<string, string>;
  queue: Queue;
  timing: boolean;
  timer?: ReturnType<typeof setTimeout>;
  send: typeof fetch;
  collector: string;
  propagate: string[];
}

let state: State | undefined;

/** Start capturing. Call once, as early as possible; later calls are ignored. */
export function initTelemetry(options: TelemetryOptions): void {
  if (state || typeof window === 'undefined') return;
  const o = {
    sampleRate: 1,
    labels: { job: 'containerlogs', source: 'browser' },
    slowFetchMs: 3000,
    requestIdHeader: 'X-Request-Id',
    maxQueue: 100,
    batchSize: 20,
    flushIntervalMs: 5000,
    maxBatchBytes: 60_000,
    ...options,
  };
  const origin = location.origin;
  state = {
    options: o,
    common: { service: o.service, release: o.release, page_id: newId('page'), page: redactUrl(location.href) },
    labels: { ...o.labels, service: o.service },
    queue: new Queue(o.maxQueue),
    timing: sampled(o.sampleRate, Math.random()),
    send: window.fetch.bind(window),
    collector: new URL(o.collectorUrl, location.href).href,
    propagate: [origin, ...(options.propagateTo ?? []).map((u) => new URL(u, location.href).origin)],
  };
  window.addEventListener('error', onError);
  window.addEventListener('unhandledrejection', onRejection);
  window.addEventListener('pagehide', () => flush(true));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush(true);
  });
  if (document.readyState === 'complete') setTimeout(pageLoad, 0);
  else window.addEventListener('load', () => setTimeout(pageLoad, 0));
  window.fetch = instrumentedFetch;
}

/** Log a caught error with a few scalar context fields (secrets by key name redacted). */
export function logError(error: unknown, context?: Record<string, unknown>): void {
  const d = describe(error);
  record({ level: 'error', kind: 'logged', ...redactContext(context), ...d });
}

/**
 * `promise`, or a {@link TimeoutError} after `ms`; a timeout is logged as an error
 * naming the operation.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new TimeoutError(name, ms);
      record({ level: 'error', kind: 'timeout', operation: name, duration_ms: ms, ...describe(error) });
      reject(error);
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Send what is queued now: by `sendBeacon` when the page is going away, else by `fetch`. */
export function flush(leaving = false): void {
  const s = state;
  if (!s) return;
  if (s.timer) clearTimeout(s.timer);
  s.timer = undefined;
  const { items, dropped } = s.queue.take();
  if (dropped) {
    items.push({
      ms: Date.now(),
      line: logLine(s.common, { level: 'warn', kind: 'dropped', message: `telemetry dropped ${dropped} lines: queue full` }),
    });
  }
  if (!items.length) return;
  const { bodies } = batches(s.labels, items, s.options.maxBatchBytes, s.options.maxQueue + 1);
  for (const body of bodies) {
    // text/plain keeps a cross-origin POST "simple": no CORS preflight, beacons allowed.
    const type = 'text/plain;charset=UTF-8';
    if (leaving && navigator.sendBeacon && navigator.sendBeacon(s.collector, new Blob([body], { type }))) continue;
    s.send(s.collector, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': type } }).catch(() => {
      // A collector that is down loses this batch; telemetry never retries in a loop.
    });
  }
}

/** Queue one line; `timing` lines only on sampled page views. */
function record(fields: Fields, timing = false): void {
  const s = state;
  if (!s) return;
  if (timing && !s.timing) return;
  s.queue.push({ ms: Date.now(), line: logLine(s.common, fields) });
  if (s.queue.length >= s.options.batchSize) flush();
  else if (!s.timer) s.timer = setTimeout(() => flush(), s.options.flushIntervalMs);
}

function onError(event: ErrorEvent): void {
  if (event.error !== undefined && event.error !== null) {
    record({ level: 'error', kind: 'uncaught', ...describe(event.error) });
  } else if (event.message) {
    // A script from another origin without CORS reports only "Script error.".
    record({ level: 'error', kind: 'uncaught', message: event.message, error_type: 'Error' });
  }
}

function onRejection(event: PromiseRejectionEvent): void {
  const d = describe(event.reason);
  record({ level: 'error', kind: 'unhandledrejection', ...d, message: `Unhandled rejection: ${d.message}` });
}

function pageLoad(): void {
  const nav = performance.getEntriesByType?.('navigation')[0] as PerformanceNavigationTiming | undefined;
  if (!nav) return;
  const ms = (v: number) => Math.round(v);
  record({
    level: 'info',
    kind: 'page_load',
    message: `page load ${redactUrl(location.href)}`,
    duration_ms: ms(nav.loadEventEnd - nav.startTime),
    ttfb_ms: ms(nav.responseStart - nav.startTime),
    dom_content_loaded_ms: ms(nav.domContentLoadedEventEnd - nav.startTime),
    transfer_bytes: nav.transferSize,
  }, true);
}

async function instrumentedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const s = state as State;
  const raw = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
  const url = new URL(raw, location.href);
  if (url.href === s.collector) return s.send(input, init);
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const requestId = newId('req');
  if (s.propagate.includes(url.origin)) {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set(s.options.requestIdHeader, requestId);
    init = { ...init, headers };
  }
  const where = redactUrl(url.href);
  const started = performance.now();
  const base = { kind: 'fetch', method, url: where, request_id: requestId };
  try {
    const response = await s.send(input, init);
    const duration_ms = Math.round(performance.now() - started);
    const status = response.status;
    if (!response.ok) {
      const level = status >= 500 || status === 0 ? 'error' : 'warn';
      record({ ...base, level, status, duration_ms, message: `fetch ${method} ${url.pathname} failed: HTTP ${status}` });
    } else if (duration_ms >= s.options.slowFetchMs) {
      const message = `slow fetch ${method} ${url.pathname}: ${duration_ms} ms`;
      record({ ...base, level: 'warn', status, duration_ms, message }, true);
    }
    return response;
  } catch (error) {
    const duration_ms = Math.round(performance.now() - started);
    const d = describe(error);
    record({ ...base, level: 'error', duration_ms, ...d, message: `fetch ${method} ${url.pathname} failed: ${d.message}` });
    throw error;
  }
}
