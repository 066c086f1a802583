import { test as base } from '@playwright/test';

// Which of the three fixture runs this is (1, 2 or 3). A few tests behave
// differently per run so that reports can be compared across runs.
export const runId = Number(process.env.RUN_ID ?? '3');

export const test = base.extend({
  baseURL: async ({}, use) => {
    const url = process.env.PLUE_BASE_URL;
    if (!url) throw new Error('PLUE_BASE_URL is not set: the global setup did not run');
    await use(url);
  },
});

export { expect } from '@playwright/test';
