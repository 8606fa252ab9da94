/**
 * Control connections, both ends (README, "Control connections"): a dialer opens a Noise XX
 * session to an address (optionally insisting on the recipient's identity), sends the control
 * selector and one request, reads one response and ends; a listener answers up to
 * `MAX_REQUESTS_PER_CONNECTION` requests per connection.
 */
import { FrameWriter, readFrames } from '@peerkit/framing';
import { type Identity, secureOutbound } from '@peerkit/noise';
import type { Address, Network, Stream } from '@peerkit/transport';
import {
  type ControlCodecs,
  type ControlRequest,
  type ControlResponse,
  MAX_REQUESTS_PER_CONNECTION,
  SELECTOR_CONTROL,
} from './control';
import { ChatError } from './errors';

/** Prologue of every messenger Noise session (Noise spec section 6): both ends must agree. */
export const PROLOGUE = new TextEncoder().encode('peerkit-chat/1');

export interface RequestOptions {
  network: Network;
  identity: Identity;
  codecs: ControlCodecs;
  /** Insist on this remote identity (Noise `expectedRemoteIdentity`). */
  expectedRemoteIdentity?: Uint8Array;
  timeoutMs: number;
}

/** Sends one control request to `address`; resolves with the response and the peer's identity. */
export async function controlRequest(
  address: Address,
  request: ControlRequest,
  options: RequestOptions,
): Promise<{ response: ControlResponse; remoteIdentity: Uint8Array }> {
  const { network, identity, codecs } = options;
  let stream: Stream | undefined;
  const timer = network.clock.setTimeout(() => {
    stream?.destroy(new ChatError('TIMEOUT', `no answer from ${address.host}:${address.port}`));
  }, options.timeoutMs);
  try {
    const raw = await network.dial(address, { timeoutMs: options.timeoutMs });
    stream = raw;
    const secure = await secureOutbound(raw, {
      identity,
      clock: network.clock,
      prologue: PROLOGUE,
      timeoutMs: options.timeoutMs,
      ...(options.expectedRemoteIdentity
        ? { expectedRemoteIdentity: options.expectedRemoteIdentity }
        : {}),
    });
    stream = secure;
    const frameOptions = { prefix: 'varint' as const, maxFrameSize: codecs.maxFrameSize };
    await secure.write(Uint8Array.of(SELECTOR_CONTROL));
    const writer = new FrameWriter(secure, frameOptions);
    await writer.write(codecs.request.encode(request));
    for await (const frame of readFrames(secure, frameOptions)) {
      const response = codecs.response.decode(frame);
      // Leaving the loop destroys the stream: one request, one response, done.
      return { response, remoteIdentity: secure.remoteIdentity };
    }
    throw new ChatError('MALFORMED', 'the peer closed the connection without answering');
  } catch (error) {
    stream?.destroy();
    if (error instanceof ChatError) throw error;
    throw new ChatError(
      'TIMEOUT',
      `request to ${address.host}:${address.port} failed: ${String((error as Error)?.message ?? error)}`,
      {
        cause: error,
      },
    );
  } finally {
    timer.cancel();
  }
}

/** Answers the requests of one control connection with `handle`, then ends it. */
export async function serveControl(
  stream: Stream,
  codecs: ControlCodecs,
  handle: (request: ControlRequest) => ControlResponse,
): Promise<void> {
  const frameOptions = { prefix: 'varint' as const, maxFrameSize: codecs.maxFrameSize };
  const writer = new FrameWriter(stream, frameOptions);
  let count = 0;
  try {
    for await (const frame of readFrames(stream, frameOptions)) {
      if (++count > MAX_REQUESTS_PER_CONNECTION) break;
      let request: ControlRequest;
      try {
        request = codecs.request.decode(frame);
      } catch {
        await writer.write(
          codecs.response.encode({ type: 'error', code: 'MALFORMED', message: 'bad request' }),
        );
        break; // a peer that breaks the protocol is disconnected
      }
      await writer.write(codecs.response.encode(handle(request)));
    }
    await writer.end();
  } catch {
    stream.destroy();
  }
}
