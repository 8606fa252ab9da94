/** How the pieces of a v2-only or hybrid torrent are checked (BEP 52). */
import type { PieceHashing } from '../storage/piece-hashing';
import { Sha1PieceHashing } from '../storage/piece-hashing';
import { HybridPieceHashing, MerklePieceHashing } from '../storage/v2-verify';
import type { TorrentInfo, TorrentInfoV2 } from '../torrent-info';
import { PieceLayers } from './piece-layers';

/** Merkle roots for a v2-only torrent; SHA-1 and merkle roots, which must agree, for a hybrid. */
export function v2Hashing(
  info: TorrentInfo,
  v2: TorrentInfoV2,
  pieceCount: number,
): { hashing: PieceHashing; layers: PieceLayers } {
  const layers = new PieceLayers(v2.files, info.pieceLength, v2.pieceLayers);
  const merkle = new MerklePieceHashing(layers, pieceCount);
  if (v2.version === 'v2') return { hashing: merkle, layers };
  const v1 = new Sha1PieceHashing(info.pieceHashes, pieceCount);
  return { hashing: new HybridPieceHashing(v1, merkle), layers };
}
