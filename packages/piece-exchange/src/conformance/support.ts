/**
 * Helpers shared by the peer rules: how a frame is named in a violation, the arbitrary of block
 * requests inside the torrent, and the "sentinel" request that shows a target kept serving.
 */
import { RuleViolation } from '@peerkit/conformance';
import { toHex } from '@peerkit/transport';
import * as fc from 'fast-check';
import type { WireFrame } from '../wire/decoder';
import { BLOCK_LENGTH, encodeRequest } from '../wire/messages';
import type { PeerContext } from './context';
import type { WireProbe } from './wire-probe';

export const BEP3 = 'BEP 3';
export const BEP6 = 'BEP 6';
export const BEP9 = 'BEP 9';
export const BEP10 = 'BEP 10';
/** This package's README, whose wire format and state machines sections are its wire spec. */
export const PEERKIT_README = '@peerkit/piece-exchange README';

export { toHex as hex };

/** A frame as a violation message names it: `piece 0:16384 (100 bytes)`, `bitfield of 2 bytes`. */
export function describeFrame(f: WireFrame | undefined): string {
  if (f === undefined) return 'nothing';
  switch (f.type) {
    case 'piece':
      return `piece ${f.index}:${f.begin} (${f.block.length} bytes)`;
    case 'request':
    case 'reject':
    case 'cancel':
      return `${f.type} ${f.index}:${f.begin}+${f.length}`;
    case 'bitfield':
      return `bitfield of ${f.bitfield.length} bytes`;
    case 'extended':
      return `extended id ${f.id}`;
    default:
      return f.type;
  }
}

/** A block request: piece index, byte offset in the piece, length (BEP 3 `request`). */
export interface BlockRequest {
  index: number;
  begin: number;
  length: number;
}

/**
 * Requests that fit in the torrent of `ctx`: any piece, any offset and any length up to 16 KiB
 * that ends inside the piece.
 */
export function arbitraryBlockRequest(ctx: PeerContext): fc.Arbitrary<BlockRequest> {
  return fc
    .record({
      index: fc.nat(ctx.torrent.pieceCount - 1),
      begin: fc.nat(),
      length: fc.integer({ min: 1, max: BLOCK_LENGTH }),
    })
    .map(({ index, begin, length }) => {
      const size = ctx.pieceSize(index);
      const b = begin % size;
      return { index, begin: b, length: Math.min(length, size - b) };
    });
}

/**
 * Sends `bytes`, then a standard request for block 0:0 (the sentinel) on the shared unchoked
 * connection; returns the frames before the sentinel's piece, or `closed` when the target hung
 * up. A missing answer to the sentinel on an open connection is a violation: the target stopped
 * serving.
 */
export async function sendWithSentinel(
  ctx: PeerContext,
  ...messages: Uint8Array[]
): Promise<{ frames: WireFrame[]; closed: boolean }> {
  const connection = await ctx.unchoked();
  const sentinelLength = Math.min(BLOCK_LENGTH, ctx.pieceSize(0));
  for (const message of messages) await connection.send(message);
  await connection.send(encodeRequest(0, 0, sentinelLength));
  const frames: WireFrame[] = [];
  for (;;) {
    const f = await connection.next(() => true, ctx.timeoutMs);
    if (f === undefined) {
      if (connection.ended) return { frames, closed: true };
      throw new RuleViolation('no answer to a standard request for block 0:0 sent right after');
    }
    if (f.type === 'piece' && f.index === 0 && f.begin === 0 && f.block.length === sentinelLength) {
      return { frames, closed: false };
    }
    frames.push(f);
  }
}

/** The target's handshake on `connection` (the rules connect through `ctx.connect` first). */
export function handshakeOf(connection: WireProbe): WireFrame | undefined {
  return connection.received.find((f) => f.type === 'handshake');
}
