import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of the workspace packages (the `parley-source`
// export condition), so a test never sees a stale build. Large tests spawn the built server
// (`npm test` builds first through `pretest`).
export default defineConfig({
  resolve: { conditions: ['parley-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['parley-source', ...defaultServerConditions] } },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI === 'true' ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'test-results/junit.xml' },
  },
});
