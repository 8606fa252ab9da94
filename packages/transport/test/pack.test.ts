import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packAndImport } from '../../../scripts/pack-smoke';
import * as api from '../src/index';

describe('@peerkit/transport as a published package', () => {
  it('installs from its tarball and imports from ESM and CJS', () => {
    const dir = fileURLToPath(new URL('..', import.meta.url));
    const result = packAndImport(dir)['@peerkit/transport'];
    const expected = Object.keys(api).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(result?.esmExports).toEqual(expected);
    expect(result?.cjsExports).toEqual(expected);
  }, 180_000);
});
