/**
 * Which torrent an incoming connection is for, when one port serves many torrents: the info-hash
 * in its BitTorrent handshake (BEP 3: `\x13BitTorrent protocol`, 8 reserved bytes, then the
 * 20-byte info_hash). Under MSE/PE the responder first finds the torrent whose SKEY hashes to
 * the initiator's `HASH('req2', SKEY)` (mse.txt, step 3; `mseKeyLookup` over every torrent's
 * info-hash), then the handshake inside the encrypted stream names it again.
 *
 * The bytes read to decide are replayed: the torrent's connection reads the whole handshake as
 * if nothing had happened.
 */
import type { Clock, Random, Stream } from '@peerkit/transport';
import { PieceExchangeError } from '../errors';
import { type EncryptionPolicy, mseAccept } from '../mse/connect';
import { MseStream } from '../mse/stream';

/** `\x13BitTorrent protocol`: the first 20 bytes of a plain handshake (BEP 3). */
const BT_PREFIX = Buffer.from('\x13BitTorrent protocol', 'latin1');
/** Protocol string (20) + reserved (8): the info-hash follows. */
const INFO_HASH_AT = 28;
const HANDSHAKE_HEAD = INFO_HASH_AT + 20;

export interface RouteOptions {
  policy: EncryptionPolicy;
  /** SKEY of a known torrent from `HASH('req2', SKEY)` (see `mseKeyLookup`). */
  lookupSkey: (req2: Uint8Array) => Uint8Array | undefined;
  clock: Clock;
  random: Random;
  /** The whole handshake (MSE and the BitTorrent head) must arrive within this, ms. */
  timeoutMs: number;
}

export interface Routed {
  infoHash: Uint8Array;
  /** The stream to hand to the torrent: it replays the handshake bytes read here. */
  stream: Stream;
}

/**
 * Reads an incoming stream's handshake up to its info-hash. Rejects (after destroying the
 * stream) when it is not BitTorrent, MSE fails, or it is too slow.
 */
export async function routeIncoming(stream: Stream, options: RouteOptions): Promise<Routed> {
  let timer: { cancel(): void } | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = options.clock.setTimeout(
      () => reject(new PieceExchangeError('HANDSHAKE_TIMEOUT', 'incoming handshake too slow')),
      options.timeoutMs,
    );
  });
  try {
    // Plain BitTorrent (the common case): read up to the info-hash, replay it, done.
    const first = await readHead(stream, stream[Symbol.asyncIterator](), deadline);
    if (first.plain) {
      if (options.policy === 'require')
        throw new PieceExchangeError('PLAINTEXT_REFUSED', 'plain handshake; encryption required');
      return first.routed;
    }
    if (options.policy === 'plain')
      throw new PieceExchangeError('INVALID_HANDSHAKE', 'not a BitTorrent handshake');
    // MSE/PE: the responder gets the bytes read so far, then finds the torrent by its SKEY.
    const secured = await Promise.race([
      mseAccept(first.replay, options.lookupSkey, {
        policy: options.policy,
        clock: options.clock,
        random: options.random,
        timeoutMs: options.timeoutMs,
      }),
      deadline,
    ]);
    const inner = await readHead(secured, secured[Symbol.asyncIterator](), deadline);
    if (!inner.plain)
      throw new PieceExchangeError('INVALID_HANDSHAKE', 'not BitTorrent inside MSE');
    return inner.routed;
  } catch (error) {
    stream.destroy();
    throw error;
  } finally {
    timer?.cancel();
  }
}

type Head =
  | { plain: true; routed: Routed }
  /** Not BitTorrent: `replay` gives back the bytes read, then the rest of the stream. */
  | { plain: false; replay: Stream };

/** Reads until the info-hash of a plain handshake, or until the bytes cannot be one. */
async function readHead(
  stream: Stream,
  chunks: AsyncIterator<Uint8Array>,
  deadline: Promise<never>,
): Promise<Head> {
  let head: Uint8Array = new Uint8Array(0);
  while (head.length < HANDSHAKE_HEAD) {
    const next = await Promise.race([chunks.next(), deadline]);
    if (next.done) throw new PieceExchangeError('HANDSHAKE_INCOMPLETE', 'ended in handshake');
    head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    const n = Math.min(head.length, BT_PREFIX.length);
    if (Buffer.compare(head.subarray(0, n), BT_PREFIX.subarray(0, n)) !== 0)
      return { plain: false, replay: new MseStream(stream, chunks, head, 'none') };
  }
  const infoHash = new Uint8Array(head.subarray(INFO_HASH_AT, HANDSHAKE_HEAD));
  return { plain: true, routed: { infoHash, stream: new MseStream(stream, chunks, head, 'none') } };
}
