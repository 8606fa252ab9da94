/**
 * Runs one secure session between two peers over `memoryStreamPair`, collecting everything
 * each side observed, so that properties can state what must (or must not) have happened.
 * Hangs are broken by firing the handshake timeout on a `ManualClock`; a session that still
 * does not settle is reported as `hung`.
 */
import type { Clock, Stream } from '@peerkit/transport';
import { ManualClock } from './manual-clock';
import { type Interceptor, memoryStreamPair } from './memory-stream';

/** What the compliance suite needs of a secure channel implementation. */
export interface SecureChannelImplementation<I extends { readonly publicKey: Uint8Array }> {
  generateIdentity(): I;
  secureOutbound(stream: Stream, options: SecureChannelOptions<I>): Promise<SecuredStream>;
  secureInbound(stream: Stream, options: SecureChannelOptions<I>): Promise<SecuredStream>;
}

export interface SecureChannelOptions<I> {
  identity: I;
  clock: Clock;
  timeoutMs?: number;
  expectedRemoteIdentity?: Uint8Array;
}

export interface SecuredStream extends Stream {
  readonly remoteIdentity: Uint8Array;
}

export interface SideOutcome {
  /** The handshake's rejection, if it failed. */
  handshakeError?: unknown;
  remoteIdentity?: Uint8Array;
  /** Every byte the reader received, concatenated. */
  received: Uint8Array;
  /** Why reading stopped, if not by an orderly end. */
  readError?: unknown;
  /** True when reading ended in an orderly way. */
  readEnded: boolean;
}

export interface SessionOutcome {
  a: SideOutcome;
  b: SideOutcome;
  hung: boolean;
}

export interface SessionOptions<I> {
  /** What `a` (the initiator) writes after the handshake, one awaited write each. */
  aWrites?: readonly Uint8Array[];
  /** What `b` (the responder) writes after the handshake. */
  bWrites?: readonly Uint8Array[];
  aToB?: Interceptor;
  bToA?: Interceptor;
  identities?: [I, I];
  expectedRemoteIdentity?: Uint8Array;
  timeoutMs?: number;
  highWaterMark?: number;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function side(
  secure: Promise<SecuredStream>,
  writes: readonly Uint8Array[],
): Promise<SideOutcome> {
  let s: SecuredStream;
  try {
    s = await secure;
  } catch (handshakeError) {
    return { handshakeError, received: new Uint8Array(0), readEnded: false };
  }
  const parts: Uint8Array[] = [];
  const outcome: SideOutcome = {
    remoteIdentity: s.remoteIdentity,
    received: new Uint8Array(0),
    readEnded: false,
  };
  const reading = (async () => {
    try {
      for await (const chunk of s) parts.push(new Uint8Array(chunk));
      outcome.readEnded = true;
    } catch (e) {
      outcome.readError = e;
    }
  })();
  const writing = (async () => {
    try {
      for (const w of writes) await s.write(w);
      await s.end();
    } catch {
      // The peer may have broken the stream; what matters is what each reader saw.
    }
  })();
  await Promise.all([reading, writing]);
  outcome.received = Buffer.concat(parts);
  return outcome;
}

/** Runs a session of `impl` between two fresh identities and reports what happened. */
export async function runSession<I extends { readonly publicKey: Uint8Array }>(
  impl: SecureChannelImplementation<I>,
  options: SessionOptions<I> = {},
): Promise<SessionOutcome> {
  const clock = new ManualClock();
  const timeoutMs = options.timeoutMs ?? 5_000;
  const [ia, ib] = options.identities ?? [impl.generateIdentity(), impl.generateIdentity()];
  const [sa, sb] = memoryStreamPair({
    aToB: options.aToB,
    bToA: options.bToA,
    highWaterMark: options.highWaterMark,
  });
  let settled = false;
  const all = Promise.all([
    side(
      impl.secureOutbound(sa, {
        identity: ia,
        clock,
        timeoutMs,
        expectedRemoteIdentity: options.expectedRemoteIdentity,
      }),
      options.aWrites ?? [],
    ),
    side(impl.secureInbound(sb, { identity: ib, clock, timeoutMs }), options.bWrites ?? []),
  ]).then((r) => {
    settled = true;
    return r;
  });
  for (let i = 0; i < 20 && !settled; i++) await turn();
  if (!settled) clock.advance(timeoutMs + 1);
  for (let i = 0; i < 20 && !settled; i++) await turn();
  if (!settled) {
    sa.destroy();
    sb.destroy();
    for (let i = 0; i < 20 && !settled; i++) await turn();
    return {
      a: { received: new Uint8Array(0), readEnded: false },
      b: { received: new Uint8Array(0), readEnded: false },
      hung: true,
    };
  }
  const [a, b] = await all;
  return { a, b, hung: false };
}
