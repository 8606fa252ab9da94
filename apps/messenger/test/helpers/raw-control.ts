/**
 * A raw control connection for the attack tests: Noise XX as initiator with a fresh (or given)
 * identity, the control selector, then whatever frames the attacker wants; nothing read unless
 * asked.
 */
import { encodeFrame, encodeFramePrefix, readFrames } from '@peerkit/framing';
import { generateIdentity, type Identity, type SecureStream, secureOutbound } from '@peerkit/noise';
import { type Address, nodeNetwork, type Stream, systemClock } from '@peerkit/transport';
import {
  type ControlCodecs,
  type ControlRequest,
  controlCodecs,
  SELECTOR_CONTROL,
} from '../../src/control';
import { PROLOGUE } from '../../src/control-channel';
import { DEFAULT_LIMITS } from '../../src/limits';

export const codecs: ControlCodecs = controlCodecs(DEFAULT_LIMITS);
const network = nodeNetwork();

/** Dials `address` as a TCP stream and nothing more (no handshake). */
export function dialRaw(address: Address): Promise<Stream> {
  return network.dial(address, { timeoutMs: 10_000 });
}

/** Dials, runs Noise and sends the control selector. */
export async function openControl(
  address: Address,
  identity: Identity = generateIdentity(),
): Promise<SecureStream> {
  const raw = await dialRaw(address);
  const secure = await secureOutbound(raw, { identity, clock: systemClock, prologue: PROLOGUE });
  await secure.write(Uint8Array.of(SELECTOR_CONTROL));
  return secure;
}

/** Encodes a request as a control frame (varint length prefix + msgpack). */
export function requestFrame(request: ControlRequest): Uint8Array {
  return encodeFrame(codecs.request.encode(request), {
    prefix: 'varint',
    maxFrameSize: codecs.maxRequestFrame,
  });
}

/** A varint length prefix announcing a frame of `length` bytes (its body is up to the caller). */
export function framePrefix(length: number): Uint8Array {
  return encodeFramePrefix(length, { prefix: 'varint', maxFrameSize: 64 * 1024 * 1024 });
}

/** Reads frames until the stream ends (or `max` frames); returns their byte sizes. */
export async function readAll(stream: Stream, max = Number.POSITIVE_INFINITY): Promise<number[]> {
  const sizes: number[] = [];
  try {
    for await (const frame of readFrames(stream, {
      prefix: 'varint',
      maxFrameSize: 64 * 1024 * 1024,
    })) {
      sizes.push(frame.length);
      if (sizes.length >= max) break;
    }
  } catch {
    // the node closed the connection: what arrived so far is the answer
  }
  return sizes;
}
