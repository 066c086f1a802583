// Unit tests of the pure parts of the browser module, on the built ESM bundle:
// the bounded queue, batching into Loki push bodies, sampling, redaction and the
// shape of a log line. Run with `node --test test/` after `npm run build`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';

import {
  Queue,
  batches,
  describe,
  logLine,
  nanos,
  newId,
  pushBody,
  redactContext,
  redactText,
  redactUrl,
  sampled,
} from '../dist/telemetry.mjs';

const line = (n, pad = 0) => ({ ms: 1_700_000_000_000 + n, line: JSON.stringify({ level: 'error', message: `e${n}`, pad: 'x'.repeat(pad) }) });
const labels = { job: 'containerlogs', source: 'browser', service: 'web' };

test('the queue keeps the newest `capacity` lines and counts what it dropped', () => {
  const q = new Queue(3);
  for (let i = 0; i < 5; i++) q.push(line(i));
  assert.equal(q.length, 3);
  const { items, dropped } = q.take();
  assert.deepEqual(items.map((i) => JSON.parse(i.line).message), ['e2', 'e3', 'e4']);
  assert.equal(dropped, 2);
  assert.equal(q.length, 0);
  assert.deepEqual(q.take(), { items: [], dropped: 0 });
});

test('nanos writes Unix ms as a nanosecond string with the tie-breaker in the last six digits', () => {
  assert.equal(nanos(1_700_000_000_123, 7), '1700000000123000007');
  assert.equal(nanos(1_700_000_000_123.9), '1700000000123000000');
});

test('a push body is one stream with the labels and every line in order', () => {
  const body = JSON.parse(pushBody(labels, [line(1), line(2)]));
  assert.deepEqual(body.streams[0].stream, labels);
  assert.deepEqual(
    body.streams[0].values.map(([ts, l]) => [ts, JSON.parse(l).message]),
    [
      ['1700000000001000000', 'e1'],
      ['1700000000002000001', 'e2'],
    ],
  );
});

test('batches stay within the byte budget and the line count, and keep every line in order', () => {
  const items = Array.from({ length: 40 }, (_, i) => line(i, 300));
  for (const [maxBytes, maxLines] of [
    [2_000, 100],
    [60_000, 7],
    [1_000, 1],
  ]) {
    const { bodies, oversized } = batches(labels, items, maxBytes, maxLines);
    assert.equal(oversized, 0);
    const seen = [];
    for (const body of bodies) {
      assert.ok(Buffer.byteLength(body) <= maxBytes, `${Buffer.byteLength(body)} > ${maxBytes}`);
      const values = JSON.parse(body).streams[0].values;
      assert.ok(values.length <= maxLines);
      seen.push(...values.map(([, l]) => JSON.parse(l).message));
    }
    assert.deepEqual(seen, items.map((_, i) => `e${i}`));
  }
  // 40 lines of ~370 bytes at 2000 bytes a body: exactly as many as the sizes allow.
  const one = Buffer.byteLength(pushBody(labels, [line(0, 300)]));
  const each = one - Buffer.byteLength(pushBody(labels, []));
  const perBody = Math.floor((2_000 - (one - each) + 1) / (each + 1));
  assert.equal(batches(labels, items, 2_000, 100).bodies.length, Math.ceil(40 / perBody));
});

test('a line larger than any body is dropped and counted, the rest still sent', () => {
  const { bodies, oversized } = batches(labels, [line(1), line(2, 5_000), line(3)], 1_000, 100);
  assert.equal(oversized, 1);
  assert.equal(bodies.length, 1);
  assert.deepEqual(JSON.parse(bodies[0]).streams[0].values.map(([, l]) => JSON.parse(l).message), ['e1', 'e3']);
});

test('multi-byte text counts in UTF-8 bytes', () => {
  const wide = { ms: 1, line: JSON.stringify({ message: 'é'.repeat(400) }) };
  const { bodies } = batches(labels, [wide, wide, wide], 1_000, 100);
  assert.equal(bodies.length, 3);
  for (const b of bodies) assert.ok(Buffer.byteLength(b) <= 1_000);
});

test('sampling: 0 never, 1 always, otherwise draws below the rate', () => {
  const draws = Array.from({ length: 1000 }, (_, i) => i / 1000);
  const count = (rate) => draws.filter((d) => sampled(rate, d)).length;
  assert.equal(count(0), 0);
  assert.equal(count(1), 1000);
  assert.equal(count(0.25), 250);
  assert.equal(count(-1), 0);
  assert.equal(count(Number.NaN), 0);
  assert.equal(count(7), 1000);
});

test('URLs lose query strings, fragments and credentials', () => {
  assert.equal(redactUrl('https://user:pw@shop.example/cart?token=abc#pay'), 'https://shop.example/cart');
  assert.equal(redactUrl('/api/orders?id=3', 'http://127.0.0.1:8080/page'), 'http://127.0.0.1:8080/api/orders');
  assert.equal(redactUrl('not a url?x=1'), 'not a url');
});

test('URLs inside messages and stack frames are redacted, frame positions kept', () => {
  const stack = [
    'TypeError: x is null (GET https://api.example/v1/items?key=s3cret failed)',
    '    at render (https://shop.example/app.js?v=42:10:5)',
    '    at https://a:b@shop.example/vendor.js#frag:3:1',
    '    at http://127.0.0.1:8080',
  ].join('\n');
  assert.equal(
    redactText(stack, 10_000),
    [
      'TypeError: x is null (GET https://api.example/v1/items failed)',
      '    at render (https://shop.example/app.js:10:5)',
      '    at https://shop.example/vendor.js:3:1',
      '    at http://127.0.0.1:8080/',
    ].join('\n'),
  );
  assert.ok(!redactText(stack, 10_000).includes('s3cret'));
  assert.equal(redactText('y'.repeat(50), 10), `${'y'.repeat(10)}…`);
});

test('context keeps scalars, redacts secrets by key name and drops the rest', () => {
  assert.deepEqual(
    redactContext({
      step: 'payment',
      attempt: 2,
      retried: true,
      password: 'hunter2',
      authToken: 'abc',
      sessionId: 's',
      note: 'see https://x.example/p?q=1',
      nested: { a: 1 },
      fn: () => 1,
      'bad key': 1,
    }),
    {
      step: 'payment',
      attempt: 2,
      retried: true,
      password: '[redacted]',
      authToken: '[redacted]',
      sessionId: '[redacted]',
      note: 'see https://x.example/p',
    },
  );
  assert.deepEqual(redactContext(null), {});
  assert.equal(Object.keys(redactContext(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])))).length, 20);
});

test('a log line has the fields the logs tool group reads', () => {
  const common = { service: 'web', release: '1.4.2', page_id: 'page-1', page: 'http://h/p' };
  const err = new TypeError("Cannot read properties of null (reading 'owner')");
  const parsed = JSON.parse(logLine(common, { level: 'error', kind: 'uncaught', ...describe(err) }));
  assert.equal(parsed.level, 'error');
  assert.equal(parsed.message, "TypeError: Cannot read properties of null (reading 'owner')");
  assert.equal(parsed.service, 'web');
  assert.equal(parsed.release, '1.4.2');
  assert.equal(parsed.request_id, 'page-1');
  assert.equal(parsed.error_type, 'TypeError');
  assert.match(parsed.stack, /^TypeError: Cannot read properties of null \(reading 'owner'\)\n\s+at /);
  const fetchLine = JSON.parse(
    logLine(common, { level: 'error', kind: 'fetch', request_id: 'req-9', duration_ms: 12, status: 500, message: 'm', url: 'http://h/a?b=c' }),
  );
  assert.deepEqual([fetchLine.request_id, fetchLine.duration_ms, fetchLine.status, fetchLine.url], ['req-9', 12, 500, 'http://h/a']);
  assert.equal(fetchLine.stack, undefined);
  assert.equal(JSON.parse(logLine(common, { level: 'warn', kind: 'x', message: 'm', service: 'spoofed' })).service, 'web');
});

test('non-errors thrown are described, stacks of other engines start with the message', () => {
  assert.deepEqual(describe('boom'), { message: 'non-error value thrown: boom', error_type: 'string' });
  const firefoxLike = { name: 'TypeError', message: 'x is null', stack: 'render@https://h/app.js:1:2\n' };
  assert.equal(describe(firefoxLike).stack, 'TypeError: x is null\nrender@https://h/app.js:1:2\n');
});

test('ids are 16 hex digits after their prefix', () => {
  assert.match(newId('req'), /^req-[0-9a-f]{16}$/);
  assert.equal(newId('page', () => 0.5), 'page-8888888888888888');
});

test('the script-tag build stays small', () => {
  const size = statSync(new URL('../dist/telemetry.min.js', import.meta.url)).size;
  assert.ok(size < 8 * 1024, `telemetry.min.js is ${size} bytes`);
  assert.match(readFileSync(new URL('../dist/telemetry.min.js', import.meta.url), 'utf8'), /PlueTelemetry/);
});
