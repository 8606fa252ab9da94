import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packAndImport } from '../../../scripts/pack-smoke';
import * as api from '../src/index';

describe('@peerkit/conformance as a published package', () => {
  // The moved test of transport's former `./conformance` entry, under its name.
  it('imports its vitest-free ./conformance entry from ESM and CJS, with fast-check installed', () => {
    const dir = fileURLToPath(new URL('..', import.meta.url));
    const spec = '@peerkit/conformance';
    const result = packAndImport(dir, [spec], { alsoInstall: ['fast-check@4.10.2'] })[spec];
    const expected = Object.keys(api).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(result?.esmExports).toEqual(expected);
    expect(result?.cjsExports).toEqual(expected);
  }, 180_000);
});
