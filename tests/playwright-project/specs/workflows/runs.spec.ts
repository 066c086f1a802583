import { writeFile } from 'node:fs/promises';
import { test, expect, runId } from '../../fixtures';

test.describe('workflow runs', () => {
  // Fails on purpose: the page shows 9 queued runs. Same message shape as
  // "counts open issues", only the numbers differ.
  test('counts queued runs', async ({ page }) => {
    await page.goto('/runs.html');
    const queued = await page.locator('tr.run[data-status=queued]').count();
    expect(queued, `expected 7 items, got ${queued}`).toBe(7);
  });

  // Times out on purpose: the deploy never finishes.
  test('waits for the deploy to finish', async ({ page }) => {
    test.setTimeout(1_500);
    await page.goto('/runs.html');
    await page.locator('#deploy-status', { hasText: 'deployed' }).waitFor();
  });

  // Fails in run 1 only, passes in runs 2 and 3.
  test('cancels a queued run', async ({ page }) => {
    await page.goto('/runs.html');
    await page.click('#cancel');
    const expected = runId === 1 ? 'canceled' : 'cancelled';
    await expect(page.locator('tr.run').first()).toHaveAttribute('data-status', expected, { timeout: 500 });
  });

  test('attaches run metadata', async ({ page }, testInfo) => {
    await page.goto('/runs.html');
    const rows = await page.locator('tr.run').evaluateAll((trs) =>
      trs.map((tr) => ({
        id: Number(tr.children[0].textContent),
        workflow: tr.children[1].textContent,
        status: tr.getAttribute('data-status'),
      })),
    );
    // 1. A JSON file written to the test's output directory, attached by path.
    const file = testInfo.outputPath('runs.json');
    await writeFile(file, JSON.stringify({ runId, rows }, null, 2));
    await testInfo.attach('runs-table', { path: file, contentType: 'application/json' });
    // 2. JSON inline: stored as a base64 body in the report, no file.
    await testInfo.attach('console-logs', {
      body: JSON.stringify([
        { type: 'log', text: 'runs page loaded', timestamp: 1700000000000 },
        { type: 'warning', text: `${rows.length} runs rendered`, timestamp: 1700000000150 },
      ]),
      contentType: 'application/json',
    });
    // 3. Plain text inline.
    await testInfo.attach('build-log', {
      body: await page.locator('#log').innerText(),
      contentType: 'text/plain',
    });
    // 4. An explicit screenshot of the page, attached by path.
    const shot = testInfo.outputPath('runs-page.png');
    await page.screenshot({ path: shot });
    await testInfo.attach('runs-page', { path: shot, contentType: 'image/png' });
    expect(rows.length).toBe(11);
  });
});
