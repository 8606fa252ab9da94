/** Progress of the content on disk: bytes left. */
import type { Bitfield } from '../bitfield';
import type { FileLayout } from './layout';

/** BEP 3 tracker `left`: the total length less the exact size of each verified piece. */
export function bytesLeft(layout: FileLayout, have: Bitfield): number {
  const last = layout.pieceCount - 1;
  let verified = have.count * layout.pieceLength;
  // The last piece is short.
  if (last >= 0 && have.has(last)) verified -= layout.pieceLength - layout.pieceSize(last);
  return Math.max(0, layout.totalLength - verified);
}
