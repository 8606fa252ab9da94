/**
 * Receiving a direct message (README, "Direct messages"): the checks a recipient makes before it
 * shows a DM and acknowledges it, as a pure function of the bytes and the channel's identities.
 */
import { equalKeys } from '@peerkit/noise';
import type { ControlResponse } from './control';
import { type DirectMessage, type EnvelopeCodec, verifyDirectMessage } from './envelope';
import type { ChatLimits } from './limits';

/**
 * Checks an encoded DM that arrived over a secure channel from `remote`, addressed to `me`.
 * Returns the response to send, and the message when it is genuine.
 */
export function receiveDm(
  codec: EnvelopeCodec,
  bytes: Uint8Array,
  me: Uint8Array,
  remote: Uint8Array,
  now: number,
  limits: Pick<ChatLimits, 'maxMessageAgeMs' | 'maxClockSkewMs'>,
): { response: ControlResponse; message?: DirectMessage } {
  let m: DirectMessage;
  try {
    m = codec.decodeDm(bytes);
  } catch {
    return { response: { type: 'error', code: 'MALFORMED', message: 'bad direct message' } };
  }
  if (!equalKeys(m.to, me)) {
    return {
      response: { type: 'error', code: 'AUTHOR_MISMATCH', message: 'not addressed to this peer' },
    };
  }
  // Direct means direct: the sender must be the peer the Noise channel authenticated.
  if (!equalKeys(m.from, remote)) {
    return {
      response: { type: 'error', code: 'AUTHOR_MISMATCH', message: 'sender is not the author' },
    };
  }
  if (!verifyDirectMessage(m)) {
    return {
      response: { type: 'error', code: 'BAD_SIGNATURE', message: 'signature does not verify' },
    };
  }
  // The same time window as room messages (README, "Limits"): a DM captured and replayed much
  // later, or dated in the future, is refused. (The sender's outbox re-signs a DM it retries
  // for long, so a genuine late delivery is always fresh.)
  if (m.ts > now + limits.maxClockSkewMs) {
    return { response: { type: 'error', code: 'STALE', message: 'timestamp in the future' } };
  }
  if (m.ts < now - limits.maxMessageAgeMs) {
    return { response: { type: 'error', code: 'STALE', message: 'timestamp too old' } };
  }
  return { response: { type: 'ack', id: m.id }, message: m };
}
