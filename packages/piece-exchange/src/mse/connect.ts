/**
 * MSE/PE on a transport `Stream` (the I/O shell around `MseInitiator`/`MseResponder`): the
 * handshake with a deadline, then an `MseStream`. The policy, as users know it from other
 * clients (`--encryption`):
 *
 * - `prefer`: dial encrypted first (RC4 or plaintext offered; the caller redials in plain when
 *   the handshake fails), accept both plain BitTorrent and MSE, select RC4 when offered.
 * - `require`: dial and accept MSE only, and only RC4 (libtorrent's `pe_forced` + `pe_rc4`).
 * - `plain`: no MSE at all (the caller does not call these functions).
 */
import type { Clock, Random, Stream } from '@peerkit/transport';
import { MseError } from './errors';
import {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MseInitiator,
  type MseOutcome,
  MseResponder,
  type MseStep,
  selectMethod,
} from './handshake';
import { MseStream } from './stream';

export type EncryptionPolicy = 'prefer' | 'require' | 'plain';

/** Default handshake deadline (mse.txt suggests 30 s for 96 bytes; we give the whole one 10 s). */
export const MSE_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface MseShellOptions {
  policy: 'prefer' | 'require';
  random: Random;
  clock: Clock;
  timeoutMs?: number;
}

/** `\x13BitTorrent protocol`: how a plain BitTorrent connection starts (BEP 3). */
const BT_PREFIX = Buffer.from('\x13BitTorrent protocol', 'latin1');

/** The methods a policy allows: `prefer` both, `require` RC4 only. */
export function allowedMethods(policy: 'prefer' | 'require'): number {
  return policy === 'require' ? CRYPTO_RC4 : CRYPTO_RC4 | CRYPTO_PLAINTEXT;
}

/** Reads `chunks` until `feed` says done; bounded by the deadline. Destroys `stream` on failure. */
async function drive<T>(
  stream: Stream,
  chunks: AsyncIterator<Uint8Array>,
  options: MseShellOptions,
  feed: (chunk: Uint8Array) => T | undefined,
): Promise<T> {
  let timer: { cancel(): void } | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = options.clock.setTimeout(
      () => reject(new MseError('HANDSHAKE_INCOMPLETE', 'MSE handshake timed out')),
      options.timeoutMs ?? MSE_HANDSHAKE_TIMEOUT_MS,
    );
  });
  try {
    for (;;) {
      const next = await Promise.race([chunks.next(), deadline]);
      if (next.done)
        throw new MseError('HANDSHAKE_INCOMPLETE', 'connection ended in the MSE handshake');
      const result = feed(next.value);
      if (result !== undefined) return result;
    }
  } catch (error) {
    stream.destroy();
    if (error instanceof MseError) throw error;
    throw new MseError('HANDSHAKE_INCOMPLETE', 'connection failed in the MSE handshake', {
      cause: error,
    });
  } finally {
    timer?.cancel();
  }
}

function sendStep(stream: Stream, step: MseStep): void {
  // A failed write also ends the reads, which fails the handshake.
  if (step.send !== undefined) stream.write(step.send).catch(() => stream.destroy());
}

function wrap(stream: Stream, chunks: AsyncIterator<Uint8Array>, outcome: MseOutcome): MseStream {
  return new MseStream(stream, chunks, outcome.payload, outcome.method, outcome);
}

/** Peer A: runs the handshake on a dialled stream for the torrent `skey` (its info-hash). */
export async function mseConnect(
  stream: Stream,
  skey: Uint8Array,
  options: MseShellOptions,
): Promise<MseStream> {
  const chunks = stream[Symbol.asyncIterator]();
  const initiator = new MseInitiator({
    skey,
    provide: allowedMethods(options.policy),
    random: options.random,
  });
  sendStep(stream, { send: initiator.start() });
  const outcome = await drive(stream, chunks, options, (chunk) => {
    const step = initiator.receive(chunk);
    sendStep(stream, step);
    return step.outcome;
  });
  return wrap(stream, chunks, outcome);
}

/**
 * Peer B: an accepted stream is either plain BitTorrent (its first 20 bytes are
 * `\x13BitTorrent protocol`; refused with `PLAINTEXT_REFUSED` under `require`) or MSE, whose
 * SKEY `lookupSkey` finds (`mseKeyLookup([infoHash])`).
 */
export async function mseAccept(
  stream: Stream,
  lookupSkey: (req2: Uint8Array) => Uint8Array | undefined,
  options: MseShellOptions,
): Promise<MseStream> {
  const chunks = stream[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  let responder: MseResponder | undefined;
  const result = await drive(stream, chunks, options, (chunk): MseStream | undefined => {
    if (responder === undefined) {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, BT_PREFIX.length);
      if (Buffer.compare(head.subarray(0, n), BT_PREFIX.subarray(0, n)) === 0) {
        if (n < BT_PREFIX.length) return undefined;
        if (options.policy === 'require')
          throw new MseError(
            'PLAINTEXT_REFUSED',
            'plain BitTorrent handshake; encryption required',
          );
        return new MseStream(stream, chunks, head, 'none');
      }
      responder = new MseResponder({
        lookupSkey,
        select: selectMethod(allowedMethods(options.policy)),
        random: options.random,
      });
      chunk = head;
    }
    const step = responder.receive(chunk);
    sendStep(stream, step);
    return step.outcome === undefined ? undefined : wrap(stream, chunks, step.outcome);
  });
  return result;
}
