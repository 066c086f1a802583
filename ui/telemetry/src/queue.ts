// The bounded queue of log lines and how it leaves the browser: batches no larger
// than a byte budget, each one Loki push-API body (`{"streams":[…]}`) that Loki,
// Alloy's `loki.source.api` or the tests' relay take unchanged. Pure, tested under Node.

/** One queued line: when (Unix ms) and the JSON log line itself. */
export interface Queued {
  ms: number;
  line: string;
}

/** A queue that keeps at most `capacity` lines, dropping the oldest and counting them. */
export class Queue {
  private items: Queued[] = [];
  /** Lines dropped because the queue was full, since the last {@link Queue.take}. */
  dropped = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.items.length;
  }

  push(item: Queued): void {
    this.items.push(item);
    while (this.items.length > this.capacity) {
      this.items.shift();
      this.dropped += 1;
    }
  }

  /** Everything queued, oldest first, and how many were dropped; the queue is left empty. */
  take(): { items: Queued[]; dropped: number } {
    const taken = { items: this.items, dropped: this.dropped };
    this.items = [];
    this.dropped = 0;
    return taken;
  }
}

/** Unix milliseconds as Loki's nanosecond string, `seq` (0–999999) breaking ties. */
export function nanos(ms: number, seq = 0): string {
  const whole = Math.floor(ms);
  return String(whole) + String(seq % 1_000_000).padStart(6, '0');
}

/** One push-API body holding `items` in one stream labelled `labels`. */
export function pushBody(labels: Record<string, string>, items: Queued[]): string {
  const values = items.map((item, i) => [nanos(item.ms, i), item.line]);
  return JSON.stringify({ streams: [{ stream: labels, values }] });
}

/**
 * `items` cut into push bodies of at most `maxBytes` (UTF-8) and `maxLines` lines each,
 * oldest first. A line too large for any body on its own is dropped and counted.
 */
export function batches(
  labels: Record<string, string>,
  items: Queued[],
  maxBytes: number,
  maxLines: number,
): { bodies: string[]; oversized: number } {
  const encoder = new TextEncoder();
  const bytes = (s: string) => encoder.encode(s).length;
  // A body is its empty shape plus each value, comma-separated: sizes add up exactly.
  const empty = bytes(pushBody(labels, []));
  const bodies: string[] = [];
  let oversized = 0;
  let current: Queued[] = [];
  let size = empty;
  for (const item of items) {
    const own = bytes(JSON.stringify([nanos(item.ms, 999_999), item.line]));
    if (empty + own > maxBytes) {
      oversized += 1;
      continue;
    }
    const grown = size + own + (current.length ? 1 : 0);
    if (current.length >= maxLines || grown > maxBytes) {
      bodies.push(pushBody(labels, current));
      current = [item];
      size = empty + own;
    } else {
      current.push(item);
      size = grown;
    }
  }
  if (current.length) bodies.push(pushBody(labels, current));
  return { bodies, oversized };
}

/** Whether a page view with random draw `draw` (0 ≤ draw < 1) is sampled at `rate`. */
export function sampled(rate: number, draw: number): boolean {
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  return draw < rate;
}
