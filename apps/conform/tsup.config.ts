import { peerkitTsupConfig } from '../../tsup.shared.ts';

// @peerkit/cli-kit is private to the workspace: bundled in (from its sources), never imported
// by the published build. The other @peerkit packages stay dependencies.
export default peerkitTsupConfig(
  { index: 'src/index.ts', cli: 'src/cli.ts' },
  {
    noExternal: [/^@peerkit\/cli-kit$/],
    esbuildOptions(options) {
      options.conditions = ['@peerkit/source'];
    },
  },
);
