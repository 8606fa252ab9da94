import type { Options } from 'tsup';
import { peerkitTsupConfig } from '../../tsup.shared.ts';

// The library entry: ESM + CJS + types, like every package. @peerkit/cli-kit is private to the
// workspace: its code (and its types) are bundled in, never imported by a published build.
const library = peerkitTsupConfig(
  { index: 'src/index.ts' },
  {
    clean: false,
    noExternal: [/^@peerkit\/cli-kit$/],
    esbuildOptions(options) {
      options.conditions = ['@peerkit/source'];
    },
  },
) as Options;

// The executables (`peerkit-share` and the demo): ESM only, no types. The @peerkit/* packages
// are bundled in from their sources, so the CLI runs from this folder's dist alone.
const executables: Options = {
  entry: { cli: 'src/cli.ts', demo: 'src/demo.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: false,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  noExternal: [/^@peerkit\//],
  esbuildOptions(options) {
    options.conditions = ['@peerkit/source'];
  },
};

export default [library, executables];
