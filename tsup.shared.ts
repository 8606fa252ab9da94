/**
 * The tsup configuration every package shares: ESM + CJS + .d.ts for each entry, with
 * test-only libraries (vitest, fast-check) kept external for the `./testing` entry.
 */
import { defineConfig, type Options } from 'tsup';

export function peerkitTsupConfig(entry: Record<string, string>, extra: Partial<Options> = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    external: ['vitest', 'fast-check'],
    ...extra,
  });
}
