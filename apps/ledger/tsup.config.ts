import { defineConfig } from 'tsup';
import { peerkitTsupConfig } from '../../tsup.shared.ts';

export default [
  // The library entry: ESM + CJS + types, dependencies external (as every package).
  peerkitTsupConfig({ index: 'src/index.ts' }, { clean: false }),
  // The `peerkit-ledger` executable: one self-contained ESM file. Workspace packages are bundled
  // from their TypeScript sources, so the command never depends on their dist/ being current.
  defineConfig({
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    clean: false,
    splitting: false,
    dts: false,
    noExternal: [/^@peerkit\//],
    esbuildOptions(options) {
      options.conditions = ['@peerkit/source', 'node', 'import', 'default'];
    },
  }),
];
