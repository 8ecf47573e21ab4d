import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    // Files run in parallel: each one isolates its Redis keys under its own prefix.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
