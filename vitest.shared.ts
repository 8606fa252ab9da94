/**
 * The vitest configuration every package shares.
 *
 * - Workspace packages resolve to their TypeScript sources through the `@peerkit/source`
 *   export condition, so tests never need a build of their dependencies.
 * - `pnpm test` runs `test/**\/*.test.ts` except interop tests; `pnpm test:interop` sets
 *   PEERKIT_INTEROP=1 and runs only `test/**\/*.interop.test.ts` (they talk to real clients).
 */
import { defineConfig } from 'vitest/config';

const interop = process.env.PEERKIT_INTEROP === '1';

export function peerkitVitestConfig() {
  const conditions = ['@peerkit/source', 'node', 'import', 'module', 'default'];
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@peerkit/source'] } },
    test: {
      include: interop ? ['test/**/*.interop.test.ts'] : ['test/**/*.test.ts'],
      exclude: interop
        ? ['**/node_modules/**']
        : ['**/node_modules/**', 'test/**/*.interop.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      reporters: ['default'],
    },
  });
}
