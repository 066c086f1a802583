import { test, expect, runId } from '../../fixtures';

test.describe('repository browser', () => {
  test('lists the top-level files', async ({ page }) => {
    await page.goto('/repo.html');
    await expect(page.locator('#files li')).toHaveText(['README.md', 'src/', 'Cargo.toml']);
  });

  // Fails on purpose: the page lists 5 open issues.
  test('counts open issues', async ({ page }) => {
    await page.goto('/repo.html');
    const count = await page.locator('#issues li').count();
    expect(count).toBe(3);
  });

  // Slow on purpose; its duration changes from run to run (2 s, 3 s, 4 s).
  test('loads the full commit history', async ({ page }) => {
    test.slow();
    await page.goto('/repo.html');
    await page.click('#history');
    await expect(page.locator('#commits li')).toHaveCount(50);
    await page.waitForTimeout(1_000 + runId * 1_000);
  });
});
