/**
 * Control connections, both ends (README, "Control connections"): a dialer opens a Noise XX
 * session to an address (optionally insisting on the recipient's identity), sends the control
 * selector and one request, reads one response and ends; a listener answers up to
 * `MAX_REQUESTS_PER_CONNECTION` requests per connection.
 */
import { FrameWriter, readFrames } from '@peerkit/framing';
import { type Identity, secureOutbound } from '@peerkit/noise';
import type { Address, Clock, Network, Stream, Timer } from '@peerkit/transport';
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
    await secure.write(Uint8Array.of(SELECTOR_CONTROL));
    const writer = new FrameWriter(secure, {
      prefix: 'varint',
      maxFrameSize: codecs.maxRequestFrame,
    });
    await writer.write(codecs.request.encode(request));
    for await (const frame of readFrames(secure, {
      prefix: 'varint',
      maxFrameSize: codecs.maxResponseFrame,
    })) {
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

/**
 * Answers the requests of one control connection with `handle`, then ends it. Requests are read
 * with the small request frame limit; the connection must make progress (a request frame
 * completed, a response taken by the peer) every `progressTimeoutMs`, else it is destroyed: a
 * peer that sends a frame byte by byte, or stops reading our answers, holds nothing for long
 * (docs/security.md, "Messenger").
 */
export async function serveControl(
  stream: Stream,
  codecs: ControlCodecs,
  handle: (request: ControlRequest) => ControlResponse,
  progress: { clock: Clock; timeoutMs: number },
): Promise<void> {
  const writer = new FrameWriter(stream, {
    prefix: 'varint',
    maxFrameSize: codecs.maxResponseFrame,
  });
  let timer: Timer | undefined;
  const arm = () => {
    timer?.cancel();
    timer = progress.clock.setTimeout(
      () => stream.destroy(new ChatError('TIMEOUT', 'control connection made no progress')),
      progress.timeoutMs,
    );
  };
  let count = 0;
  arm();
  try {
    for await (const frame of readFrames(stream, {
      prefix: 'varint',
      maxFrameSize: codecs.maxRequestFrame,
    })) {
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
      arm(); // a whole request arrived
      await writer.write(codecs.response.encode(handle(request)));
      arm(); // the peer took the answer
    }
    await writer.end();
  } catch {
    stream.destroy();
  } finally {
    timer?.cancel();
  }
}
