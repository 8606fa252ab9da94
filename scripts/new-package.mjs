#!/usr/bin/env node
// Creates the standard file set of a workspace package (see docs/architecture.md):
//   node scripts/new-package.mjs <packages|apps>/<dir> "<description>" [--testing] [--dep @peerkit/x ...] [--dev @peerkit/y ...]
// It never overwrites a file that exists.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [rel, description, ...rest] = process.argv.slice(2);
if (!rel || !description) {
  console.error(
    'usage: new-package.mjs <packages|apps>/<dir> "<description>" [--testing] [--dep NAME]... [--dev NAME]...',
  );
  process.exit(2);
}
const testing = rest.includes('--testing');
const deps = {};
const dev = {};
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--dep') deps[rest[++i]] = 'workspace:*';
  if (rest[i] === '--dev') dev[rest[++i]] = 'workspace:*';
}
const dir = join(process.cwd(), rel);
const short = rel.split('/')[1];
const name = `@peerkit/${short}`;
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });
const put = (file, text) => {
  const p = join(dir, file);
  if (!existsSync(p)) writeFileSync(p, text);
};
const entry = (base) => ({
  '@peerkit/source': `./src/${base}.ts`,
  import: { types: `./dist/${base}.d.ts`, default: `./dist/${base}.js` },
  require: { types: `./dist/${base}.d.cts`, default: `./dist/${base}.cjs` },
});
const exportsMap = { '.': entry('index') };
if (testing) exportsMap['./testing'] = entry('testing');
exportsMap['./package.json'] = './package.json';
const manifest = {
  name,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20' },
  repository: { type: 'git', url: 'https://example.invalid/peerkit.git', directory: rel },
  files: ['dist', 'README.md', 'LICENSE'],
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.ts',
  exports: exportsMap,
  scripts: {
    build: 'tsup',
    test: 'vitest run',
    typecheck: 'tsc --noEmit',
    lint: 'biome check .',
    bench: 'node ../../scripts/bench.mjs',
  },
  dependencies: deps,
  ...(testing
    ? {
        peerDependencies: { 'fast-check': '^4.10.2' },
        peerDependenciesMeta: { 'fast-check': { optional: true } },
      }
    : {}),
  devDependencies: {
    ...dev,
    '@types/node': '20.19.43',
    'fast-check': '4.10.2',
    tsup: '8.5.0',
    typescript: '5.9.3',
    vitest: '4.1.12',
  },
};
put('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
put(
  'tsconfig.json',
  '{\n  "extends": "../../tsconfig.base.json",\n  "include": ["src", "test", "bench", "*.ts"]\n}\n',
);
const entries = testing
  ? "{ index: 'src/index.ts', testing: 'src/testing.ts' }"
  : "{ index: 'src/index.ts' }";
put(
  'tsup.config.ts',
  `import { peerkitTsupConfig } from '../../tsup.shared.ts';\n\nexport default peerkitTsupConfig(${entries});\n`,
);
put(
  'vitest.config.ts',
  `import { peerkitVitestConfig } from '../../vitest.shared.ts';\n\nexport default peerkitVitestConfig();\n`,
);
if (!existsSync(join(dir, 'LICENSE')))
  copyFileSync(join(process.cwd(), 'LICENSE'), join(dir, 'LICENSE'));
put('README.md', `# ${name}\n\n${description}\n`);
put('src/index.ts', `export {};\n`);
if (testing) put('src/testing.ts', `export {};\n`);
put(
  'test/pack.test.ts',
  `import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packAndImport } from '../../../scripts/pack-smoke';
import * as api from '../src/index';

describe('${name} as a published package', () => {
  it('installs from its tarball and imports from ESM and CJS', () => {
    const dir = fileURLToPath(new URL('..', import.meta.url));
    const result = packAndImport(dir)['${name}'];
    const expected = Object.keys(api).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(result?.esmExports).toEqual(expected);
    expect(result?.cjsExports).toEqual(expected);
  }, 180_000);
});
`,
);
console.log(`created ${rel}`);
