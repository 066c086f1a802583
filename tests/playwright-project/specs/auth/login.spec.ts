import { test, expect } from '../../fixtures';

test.describe('login', () => {
  test('shows the sign-in form', async ({ page }) => {
    await page.goto('/login.html');
    await expect(page.getByRole('heading', { name: 'Sign in to Plue' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  });

  test('rejects a wrong password', async ({ page }) => {
    await page.goto('/login.html');
    await page.fill('#user', 'alice');
    await page.fill('#password', 'nope');
    await page.click('button[type=submit]');
    await expect(page.locator('#message')).toHaveText('Wrong user or password');
  });

  // Flaky on purpose: the greeting arrives after 400 ms; the first attempt only
  // waits 150 ms for it, the retry waits long enough.
  test('remembers the session', async ({ page }, testInfo) => {
    await page.goto('/login.html');
    await page.fill('#user', 'alice');
    await page.fill('#password', 'hunter2');
    await page.check('#remember');
    await page.click('button[type=submit]');
    const timeout = testInfo.retry === 0 ? 150 : 3_000;
    await expect(page.locator('#message')).toHaveText('Welcome back, alice', { timeout });
  });

  test('signs in with single sign-on', async ({ page }) => {
    test.skip(true, 'SSO provider is not configured in this environment');
    await page.goto('/login.html');
  });
});
