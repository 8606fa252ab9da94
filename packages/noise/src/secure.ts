/**
 * Upgrading a transport `Stream` to a `SecureStream`: the Noise_XX_25519_ChaChaPoly_SHA256
 * handshake with identity payloads (see README "Handshake"):
 *
 *   -> e                          initiator, empty payload
 *   <- e, ee, s, es               responder, identity payload
 *   -> s, se                      initiator, identity payload
 *
 * Every handshake message travels with a 2-byte big-endian length prefix. The handshake is
 * bounded by `timeoutMs` on the injected `Clock`; any failure destroys the transport stream
 * and rejects with a `NoiseError`.
 */
import { type Clock, isTransportError, type Stream } from '@peerkit/transport';
import { generateKeyPair, type KeyPair } from './crypto';
import { NoiseError } from './errors';
import { encodeFrame, FrameReader } from './frame-reader';
import { HandshakeState } from './handshake-state';
import type { Identity } from './identity';
import { encodeIdentityPayload, verifyIdentityPayload } from './payload';
import { SecureStream } from './secure-stream';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface SecureOptions {
  /** This peer's Ed25519 identity. */
  identity: Identity;
  /** The clock that bounds the handshake (use the `Network`'s clock). */
  clock: Clock;
  /** Give up with `HANDSHAKE_TIMEOUT` after this many milliseconds (default 10,000). */
  timeoutMs?: number;
  /** Bytes both sides must agree on, e.g. an application protocol name (spec section 6). */
  prologue?: Uint8Array;
  /** Require this remote identity public key, else `IDENTITY_MISMATCH`. */
  expectedRemoteIdentity?: Uint8Array;
  /** The Noise static key pair; default a fresh one per session (noise-libp2p does the same). */
  staticKeyPair?: KeyPair;
  /** GENERATE_KEYPAIR() for the ephemeral key; only tests should set it. */
  generateKeyPair?: () => KeyPair;
}

/** Runs the handshake as initiator (the dialing side). */
export function secureOutbound(stream: Stream, options: SecureOptions): Promise<SecureStream> {
  return secure(stream, options, true);
}

/** Runs the handshake as responder (the accepting side). */
export function secureInbound(stream: Stream, options: SecureOptions): Promise<SecureStream> {
  return secure(stream, options, false);
}

function asNoiseError(error: unknown): NoiseError {
  if (error instanceof NoiseError) return error;
  if (isTransportError(error)) {
    return new NoiseError('CLOSED', `stream failed during the handshake: ${error.message}`, {
      cause: error,
    });
  }
  return new NoiseError('CLOSED', 'stream failed during the handshake', { cause: error });
}

function secure(stream: Stream, options: SecureOptions, initiator: boolean): Promise<SecureStream> {
  return new Promise<SecureStream>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      const e = asNoiseError(error);
      stream.destroy(e);
      reject(e);
    };
    const timeoutMs = options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const timer = options.clock.setTimeout(
      () => fail(new NoiseError('HANDSHAKE_TIMEOUT', `no handshake within ${timeoutMs} ms`)),
      timeoutMs,
    );
    handshake(stream, options, initiator).then((secureStream) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      resolve(secureStream);
    }, fail);
  });
}

async function handshake(
  stream: Stream,
  options: SecureOptions,
  initiator: boolean,
): Promise<SecureStream> {
  const s = options.staticKeyPair ?? generateKeyPair();
  const hs = new HandshakeState({
    pattern: 'XX',
    initiator,
    prologue: options.prologue,
    s,
    generateKeyPair: options.generateKeyPair,
  });
  const reader = new FrameReader(stream[Symbol.asyncIterator]());
  const readMessage = async (): Promise<Uint8Array> => {
    const message = await reader.readFrame();
    if (message === undefined) throw new NoiseError('CLOSED', 'stream ended during the handshake');
    return hs.readMessage(message);
  };
  const verify = (payload: Uint8Array): Uint8Array =>
    verifyIdentityPayload(
      payload,
      hs.remoteStaticKey as Uint8Array,
      options.expectedRemoteIdentity,
    );
  const ownPayload = () => encodeIdentityPayload(options.identity, s.publicKey);

  let remoteIdentity: Uint8Array;
  if (initiator) {
    await stream.write(encodeFrame(hs.writeMessage())); // -> e
    remoteIdentity = verify(await readMessage()); // <- e, ee, s, es
    await stream.write(encodeFrame(hs.writeMessage(ownPayload()))); // -> s, se
  } else {
    const first = await readMessage(); // -> e
    if (first.length !== 0) throw new NoiseError('BAD_MESSAGE', 'first message carries a payload');
    await stream.write(encodeFrame(hs.writeMessage(ownPayload()))); // <- e, ee, s, es
    remoteIdentity = verify(await readMessage()); // -> s, se
  }
  const [c1, c2] = hs.split();
  return new SecureStream({
    stream,
    reader,
    send: initiator ? c1 : c2,
    receive: initiator ? c2 : c1,
    remoteIdentity,
    handshakeHash: hs.getHandshakeHash(),
  });
}
