/**
 * Extension protocol rules (BEP 10) and metadata exchange (BEP 9) against a live peer. Not
 * applicable when the peer does not set the extension bit or offer ut_metadata.
 */
import { createHash } from 'node:crypto';
import { type BencodeValue, decode, isBencodeDict } from '@peerkit/bencode';
import { defineRule, ensure, RuleViolation } from '@peerkit/conformance';
import * as fc from 'fast-check';
import {
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  type ExtensionHandshake,
  encodeExtensionHandshake,
  UT_METADATA,
} from '../wire/extension';
import { readExtensions } from '../wire/handshake';
import { BLOCK_LENGTH, encodeExtended } from '../wire/messages';
import { decodeMetadataMessage, encodeMetadataMessage } from '../wire/metadata';
import type { PeerContext } from './context';
import { BEP9, BEP10, handshakeOf, hex } from './support';
import type { WireProbe } from './wire-probe';

/** The id we ask the target to use for ut_metadata messages to us. */
const OUR_UT_METADATA = 3;

/** Connects with the extension bit, sends our extension handshake and waits for the target's. */
async function extensionHandshake(
  ctx: PeerContext,
): Promise<{ connection: WireProbe; payload: Uint8Array | undefined }> {
  const connection = await ctx.connect({ extended: true, fast: true });
  await connection.send(
    encodeExtended(
      EXTENSION_HANDSHAKE_ID,
      encodeExtensionHandshake({ m: { [UT_METADATA]: OUR_UT_METADATA } }),
    ),
  );
  const f = await connection.next(
    (x) => x.type === 'extended' && x.id === EXTENSION_HANDSHAKE_ID,
    ctx.timeoutMs,
  );
  return { connection, payload: f?.type === 'extended' ? f.payload : undefined };
}

async function supportsExtensions(ctx: PeerContext): Promise<string | undefined> {
  const connection = await ctx.connect({ extended: true, fast: true });
  connection.close();
  const hs = handshakeOf(connection);
  return hs?.type === 'handshake' && readExtensions(hs.reserved).extended
    ? undefined
    : 'the target does not set the extension protocol bit (BEP 10) in its handshake';
}

export const extensionHandshakeValid = defineRule<PeerContext, { seq: number }>({
  id: 'peer.extension.handshake',
  title:
    'the extension handshake is a canonical bencoded dictionary whose "m" maps names to distinct integer ids',
  cite: {
    spec: BEP10,
    section: 'handshake message',
    text: 'The payload of the handshake message is a bencoded dictionary. [...] The only requirement on these IDs is that no extension message share the same one.',
  },
  applies: supportsExtensions,
  cases: () => fc.record({ seq: fc.nat(3) }),
  async check(ctx) {
    const { connection, payload } = await extensionHandshake(ctx);
    connection.close();
    ensure(payload !== undefined, 'no extension handshake after both sides set the extension bit');
    let root: BencodeValue;
    try {
      root = decode(payload);
    } catch (error) {
      throw new RuleViolation(
        `extension handshake is not canonical bencode: ${error instanceof Error ? error.message : String(error)} (${hex(payload.subarray(0, 80))})`,
      );
    }
    ensure(isBencodeDict(root), 'extension handshake is not a dictionary');
    const m = root.m;
    if (m === undefined) return;
    ensure(isBencodeDict(m), '"m" is not a dictionary');
    const ids = new Map<number, string>();
    for (const [name, id] of Object.entries(m)) {
      ensure(
        typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 255,
        `m.${name} is not an id in 0..255`,
      );
      if (id === 0) continue;
      ensure(!ids.has(id), `m.${name} and m.${ids.get(id)} share id ${id}`);
      ids.set(id, name);
    }
  },
});

async function metadataOffer(
  ctx: PeerContext,
): Promise<{ hs: ExtensionHandshake | undefined; reason?: string }> {
  const { connection, payload } = await extensionHandshake(ctx);
  connection.close();
  if (payload === undefined) return { hs: undefined, reason: 'no extension handshake' };
  const hs = decodeExtensionHandshake(payload);
  if (!hs.m[UT_METADATA] || hs.metadataSize === undefined) {
    return {
      hs: undefined,
      reason: 'the extension handshake offers no ut_metadata with metadata_size (BEP 9)',
    };
  }
  return { hs };
}

export const metadataPieces = defineRule<PeerContext, { pieces: number[] }>({
  id: 'peer.ut_metadata.info',
  title:
    'ut_metadata serves the info dictionary: pieces answered with the same piece number, total_size right, hashing to the info-hash',
  cite: {
    spec: BEP9,
    section: 'request',
    text: 'The response to this message, from a peer supporting the extension, is either a reject or a data message. The response MUST have the same piece as the request did.',
  },
  async applies(ctx) {
    const supported = await supportsExtensions(ctx);
    if (supported !== undefined) return supported;
    return (await metadataOffer(ctx)).reason;
  },
  cases: (ctx) => {
    const count = Math.ceil(ctx.torrent.infoBytes.length / BLOCK_LENGTH);
    // Every piece once, in any order, with up to two requests past the last piece mixed in.
    return fc.record({
      pieces: fc
        .tuple(
          fc.shuffledSubarray([...Array(count).keys()], { minLength: count, maxLength: count }),
          fc.array(fc.integer({ min: count, max: count + 100 }), { maxLength: 2 }),
        )
        .map(([valid, extra]) => [...valid, ...extra]),
    });
  },
  async check(ctx, { pieces }) {
    const { connection, payload } = await extensionHandshake(ctx);
    try {
      ensure(payload !== undefined, 'no extension handshake');
      const hs = decodeExtensionHandshake(payload);
      const id = hs.m[UT_METADATA];
      const size = hs.metadataSize;
      ensure(id !== undefined && id > 0 && size !== undefined, 'ut_metadata no longer offered');
      ensure(
        size === ctx.torrent.infoBytes.length,
        `metadata_size ${size}, the info dictionary has ${ctx.torrent.infoBytes.length} bytes`,
      );
      const count = Math.ceil(size / BLOCK_LENGTH);
      const info = new Uint8Array(size);
      for (const piece of pieces) {
        await connection.send(
          encodeExtended(id, encodeMetadataMessage({ type: 'request', piece })),
        );
        if (piece >= count) continue; // answered with reject or not at all; checked below
        const f = await connection.next(
          (x) => x.type === 'extended' && x.id === OUR_UT_METADATA,
          ctx.timeoutMs,
        );
        ensure(f?.type === 'extended', `no ut_metadata answer to a request for piece ${piece}`);
        const m = decodeMetadataMessage(f.payload);
        ensure(m.type === 'data', `piece ${piece} of ${count} answered with ${m.type}`);
        ensure(m.piece === piece, `asked piece ${piece}, got piece ${m.piece}`);
        ensure(m.totalSize === size, `total_size ${m.totalSize}, metadata_size was ${size}`);
        const expected = Math.min(BLOCK_LENGTH, size - piece * BLOCK_LENGTH);
        ensure(
          m.data.length === expected,
          `piece ${piece} has ${m.data.length} bytes, expected ${expected}`,
        );
        info.set(m.data, piece * BLOCK_LENGTH);
      }
      const digest = createHash('sha1').update(info).digest();
      ensure(
        hex(digest) === hex(ctx.torrent.infoHash),
        `the info dictionary served hashes to ${hex(digest)}, not the info-hash`,
      );
      // Requests past the end get a reject or nothing; a data message there is a violation.
      const late = await connection.collect(Math.min(ctx.timeoutMs, 300));
      for (const f of late) {
        if (f.type !== 'extended' || f.id !== OUR_UT_METADATA) continue;
        const m = decodeMetadataMessage(f.payload);
        ensure(m.type !== 'data', `served data for piece ${m.piece}, past the end of the metadata`);
      }
    } finally {
      connection.close();
    }
  },
});
