/** Progress of the content on disk: bytes left, and the pieces an `assumeComplete` start counts. */
import { Bitfield } from '../bitfield';
import type { FileLayout } from './layout';
import type { PieceStore } from './piece-store';

/** BEP 3 tracker `left`: the total length less the exact size of each verified piece. */
export function bytesLeft(layout: FileLayout, have: Bitfield): number {
  const last = layout.pieceCount - 1;
  let verified = have.count * layout.pieceLength;
  // The last piece is short.
  if (last >= 0 && have.has(last)) verified -= layout.pieceLength - layout.pieceSize(last);
  return Math.max(0, layout.totalLength - verified);
}

/**
 * `assumeComplete`: every piece whose files are on disk at full size counts as verified, none
 * is hashed (the caller vouches for the content).
 */
export async function presentPieces(store: PieceStore): Promise<Bitfield> {
  const have = new Bitfield(store.layout.pieceCount);
  for (let i = 0; i < store.layout.pieceCount; i++) if (await store.piecePresent(i)) have.set(i);
  return have;
}
