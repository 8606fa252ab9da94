/**
 * Saved room history: `rooms/<room key hex>.bin` in the state dir, the room's envelopes as
 * varint-length-prefixed frames (@peerkit/framing). Loading decodes each frame and the node
 * verifies every message again before it is shown (`HistoryStore.import`); a damaged file
 * loses only what cannot be read.
 */
import { encodeFrame, FrameDecoder } from '@peerkit/framing';
import type { EnvelopeCodec, RoomMessage } from './envelope';
import { hex, roomKey } from './rendezvous';

export function historyFileName(room: string): string {
  return `rooms/${hex(roomKey(room))}.bin`;
}

export function encodeHistory(codec: EnvelopeCodec, messages: readonly RoomMessage[]): Uint8Array {
  const frames = messages.map((m) => encodeFrame(codec.encodeRoom(m), { prefix: 'varint' }));
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

/** Decodes what `encodeHistory` wrote; skips undecodable envelopes, stops at broken framing. */
export function decodeHistory(codec: EnvelopeCodec, bytes: Uint8Array, max: number): RoomMessage[] {
  const decoder = new FrameDecoder({ prefix: 'varint', maxFrameSize: 64 * 1024 });
  const out: RoomMessage[] = [];
  try {
    decoder.push(bytes);
    for (
      let frame = decoder.next();
      frame !== undefined && out.length < max;
      frame = decoder.next()
    ) {
      try {
        out.push(codec.decodeRoom(frame));
      } catch {
        // a damaged entry is skipped
      }
    }
  } catch {
    // broken framing: keep what was read before it
  }
  return out;
}
