import { test, expect, runId } from '../../fixtures';

test.describe('repository browser', () => {
  test('lists the top-level files', async ({ page }) => {
    await page.goto('/repo.html');
    await expect(page.locator('#files li')).toHaveText(['README.md', 'src/', 'Cargo.toml']);
  });

  // Fails on purpose: the page lists 5 open issues. Its message has the same
  // shape as the one of "counts queued runs"; only the numbers differ.
  test('counts open issues', async ({ page }) => {
    await page.goto('/repo.html');
    const count = await page.locator('#issues li').count();
    expect(count, `expected 3 items, got ${count}`).toBe(3);
  });

  // Slow on purpose; its wait grows from run to run (3 s, 4.5 s, 6 s).
  test('loads the full commit history', async ({ page }) => {
    test.slow();
    await page.goto('/repo.html');
    await page.click('#history');
    await expect(page.locator('#commits li')).toHaveCount(50);
    await page.waitForTimeout(1_500 + runId * 1_500);
  });
});
