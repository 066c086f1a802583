// Opens one page in Debian's Chromium (never a downloaded browser), waits until the
// page sets `window.telemetryDone`, then leaves it for about:blank so that the page's
// `pagehide` fires (ui/telemetry sends its queue with sendBeacon then). Prints the
// page's console and errors. Used by tests/e2e/browser.rs:
//
//   node telemetry-page.mjs http://127.0.0.1:PORT/?collector=...
import { chromium } from '@playwright/test';

const url = process.argv[2];
if (!url) {
  console.error('usage: node telemetry-page.mjs URL');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => console.log(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.telemetryDone === true, null, { timeout: 30_000 });
  await page.goto('about:blank');
  // The beacon is sent in the background; give it time before the browser goes.
  await page.waitForTimeout(1_500);
  console.log('left the page');
} finally {
  await browser.close();
}
