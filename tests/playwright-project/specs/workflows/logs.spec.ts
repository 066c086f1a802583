import { test, expect } from '../../fixtures';

// The only traced test, and traced only in the desktop project, to keep the
// fixtures small. Playwright's `trace` option is fixed per file and project,
// so this test records its trace itself and attaches it the way the built-in
// option does (name "trace", application/zip, <outputDir>/trace.zip).
test.describe('workflow run logs', () => {
  test('shows the build log', async ({ page, context }, testInfo) => {
    const traced = testInfo.project.name === 'chromium-desktop';
    if (traced) await context.tracing.start({ title: testInfo.title, snapshots: true, screenshots: false, sources: false });
    try {
      await page.goto('/runs.html');
      await expect(page.locator('#log')).toContainText('step 3/3 test ... ok');
    } finally {
      if (traced) {
        const path = testInfo.outputPath('trace.zip');
        await context.tracing.stop({ path });
        await testInfo.attach('trace', { path, contentType: 'application/zip' });
      }
    }
  });
});
