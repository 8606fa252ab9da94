/**
 * A magnet link compliance suite (exported from `@peerkit/piece-exchange/testing`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MagnetLink } from '../magnet';
import { arbMagnetLink } from './metainfo-arbitraries';

export interface MagnetCodec {
  parse(uri: string): MagnetLink;
  format(magnet: MagnetLink): string;
  errorClass: abstract new (...args: never[]) => Error;
}

/** Registers (with vitest) the magnet link properties, `numRuns` runs each (default 1000). */
export function describeMagnetCompliance(
  name: string,
  codec: MagnetCodec,
  options: { numRuns?: number } = {},
): void {
  const numRuns = options.numRuns ?? 1000;
  describe(`${name}: magnet compliance`, () => {
    it('parse(format(m)) equals m', () => {
      fc.assert(
        fc.property(arbMagnetLink(), (magnet) => {
          expect(codec.parse(codec.format(magnet))).toEqual(magnet);
        }),
        { numRuns },
      );
    });

    it('arbitrary strings after `magnet:?` give a magnet link or the codec error', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 120 }), (tail) => {
          try {
            codec.parse(`magnet:?${tail}`);
          } catch (error) {
            expect(error).toBeInstanceOf(codec.errorClass);
          }
        }),
        { numRuns },
      );
    });
  });
}
