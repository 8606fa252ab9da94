import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packAndImport } from '../../../scripts/pack-smoke';
import * as conformance from '../src/conformance';
import * as api from '../src/index';

describe('@peerkit/piece-exchange as a published package', () => {
  it('installs from its tarball and imports from ESM and CJS', () => {
    const dir = fileURLToPath(new URL('..', import.meta.url));
    const result = packAndImport(dir)['@peerkit/piece-exchange'];
    const expected = Object.keys(api).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(result?.esmExports).toEqual(expected);
    expect(result?.cjsExports).toEqual(expected);
  }, 180_000);

  it('imports its vitest-free ./conformance entry from ESM and CJS, with fast-check installed', () => {
    const dir = fileURLToPath(new URL('..', import.meta.url));
    const spec = '@peerkit/piece-exchange/conformance';
    const result = packAndImport(dir, [spec], { alsoInstall: ['fast-check@4.10.2'] })[spec];
    const expected = Object.keys(conformance).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(result?.esmExports).toEqual(expected);
    expect(result?.cjsExports).toEqual(expected);
  }, 180_000);
});
