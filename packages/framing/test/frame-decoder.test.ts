import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  encodeFramePrefix,
  FrameDecoder,
  FramingError,
  isFramingError,
  type PrefixKind,
} from '../src/index';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FramingError);
    return (error as FramingError).code;
  }
  return undefined;
}

describe('prefix encodings (wire format)', () => {
  it('uint32be, uint16be and varint prefixes match the README', () => {
    const payload = Uint8Array.of(0xaa, 0xbb);
    expect(hex(encodeFrame(payload))).toBe('00000002aabb');
    expect(hex(encodeFrame(payload, { prefix: 'uint16be' }))).toBe('0002aabb');
    expect(hex(encodeFrame(payload, { prefix: 'varint' }))).toBe('02aabb');
    expect(hex(encodeFramePrefix(300, { prefix: 'varint' }))).toBe('ac02');
    expect(hex(encodeFramePrefix(300))).toBe('0000012c');
    expect(hex(encodeFramePrefix(0xffffffff, { prefix: 'varint', maxFrameSize: 0xffffffff }))).toBe(
      'ffffffff0f',
    );
    expect(hex(encodeFramePrefix(127, { prefix: 'varint' }))).toBe('7f');
    expect(hex(encodeFramePrefix(128, { prefix: 'varint' }))).toBe('8001');
    expect(hex(encodeFrame(new Uint8Array(0), { prefix: 'varint' }))).toBe('00');
  });

  it('refuses to encode a payload above maxFrameSize', () => {
    expect(codeOf(() => encodeFrame(new Uint8Array(11), { maxFrameSize: 10 }))).toBe(
      'FRAME_TOO_LARGE',
    );
    expect(codeOf(() => encodeFrame(new Uint8Array(0x10000), { prefix: 'uint16be' }))).toBe(
      'FRAME_TOO_LARGE',
    );
  });

  it('rejects options a prefix cannot honour', () => {
    expect(codeOf(() => new FrameDecoder({ prefix: 'uint16be', maxFrameSize: 0x10000 }))).toBe(
      'INVALID_OPTION',
    );
    expect(codeOf(() => new FrameDecoder({ maxFrameSize: -1 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => new FrameDecoder({ prefix: 'bogus' as PrefixKind }))).toBe(
      'INVALID_OPTION',
    );
    expect(new FrameDecoder().maxFrameSize).toBe(1024 * 1024);
    expect(new FrameDecoder({ prefix: 'uint16be' }).maxFrameSize).toBe(0xffff);
  });
});

describe('FrameDecoder', () => {
  it('returns views, without copying, for frames inside one chunk', () => {
    const chunk = Uint8Array.from([
      ...encodeFrame(Uint8Array.of(1, 2, 3)),
      ...encodeFrame(new Uint8Array(0)),
      ...encodeFrame(Uint8Array.of(4)),
    ]);
    const decoder = new FrameDecoder();
    const frames = decoder.decode(chunk);
    expect(frames.map((f) => [...f])).toEqual([[1, 2, 3], [], [4]]);
    for (const f of frames) expect(f.buffer).toBe(chunk.buffer);
    expect(frames[0]!.byteOffset).toBe(4);
    expect(decoder.bufferedBytes).toBe(0);
    decoder.end();
  });

  it('copies a frame that spans chunks into one exact-size buffer', () => {
    const bytes = encodeFrame(Uint8Array.of(1, 2, 3, 4, 5), { prefix: 'varint' });
    const decoder = new FrameDecoder({ prefix: 'varint' });
    expect(decoder.decode(bytes.subarray(0, 3))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(2); // the parsed prefix is not held
    const [frame] = decoder.decode(bytes.subarray(3));
    expect([...frame!]).toEqual([1, 2, 3, 4, 5]);
    expect(frame!.buffer).not.toBe(bytes.buffer);
    expect(frame!.buffer.byteLength).toBe(5);
  });

  it('reads prefixes split byte by byte, for every prefix kind', () => {
    for (const prefix of ['uint32be', 'uint16be', 'varint'] as const) {
      const payload = new Uint8Array(300).map((_, i) => i & 0xff);
      const bytes = encodeFrame(payload, { prefix });
      const decoder = new FrameDecoder({ prefix });
      const frames: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i++)
        frames.push(...decoder.decode(bytes.subarray(i, i + 1)));
      expect(frames).toHaveLength(1);
      expect(frames[0]).toEqual(payload);
    }
  });

  it('keeps later chunks queued when next() is not drained between pushes', () => {
    const decoder = new FrameDecoder({ prefix: 'uint16be' });
    decoder.push(encodeFrame(Uint8Array.of(1), { prefix: 'uint16be' }));
    decoder.push(encodeFrame(Uint8Array.of(2, 2), { prefix: 'uint16be' }));
    decoder.push(new Uint8Array(0));
    decoder.push(Uint8Array.of(0));
    expect(decoder.bufferedBytes).toBe(3 + 4 + 1);
    expect([...decoder.next()!]).toEqual([1]);
    expect([...decoder.next()!]).toEqual([2, 2]);
    expect(decoder.next()).toBeUndefined();
    decoder.push(Uint8Array.of(0));
    expect([...decoder.next()!]).toEqual([]);
    decoder.end();
  });

  it('fails with FRAME_TOO_LARGE as soon as the prefix is complete', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 100 });
    decoder.push(Uint8Array.of(0, 0));
    expect(decoder.next()).toBeUndefined();
    decoder.push(Uint8Array.of(0, 101));
    expect(codeOf(() => decoder.next())).toBe('FRAME_TOO_LARGE');
    // The failure is sticky: the stream cannot be resynchronised.
    expect(codeOf(() => decoder.next())).toBe('FRAME_TOO_LARGE');
    expect(codeOf(() => decoder.push(Uint8Array.of(1)))).toBe('FRAME_TOO_LARGE');
  });

  it('does not allocate for an announced 4 GiB frame that never arrives', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 0xffffffff });
    decoder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3));
    expect(decoder.next()).toBeUndefined();
    decoder.push(new Uint8Array(1000));
    expect(decoder.next()).toBeUndefined();
    expect(decoder.bufferedBytes).toBe(1003);
    expect(codeOf(() => decoder.end())).toBe('TRUNCATED');
  });

  it('rejects varints that are non-minimal, too long or above 2^32-1', () => {
    const bad = [
      [0x80, 0x00],
      [0xff, 0x80, 0x00],
      [0xff, 0xff, 0xff, 0xff, 0x10],
      [0xff, 0xff, 0xff, 0xff, 0x8f],
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
    ];
    for (const prefix of bad) {
      const decoder = new FrameDecoder({ prefix: 'varint', maxFrameSize: 0xffffffff });
      expect(
        codeOf(() => decoder.decode(Uint8Array.from(prefix))),
        prefix.join(','),
      ).toBe('BAD_VARINT');
    }
    const max = new FrameDecoder({ prefix: 'varint', maxFrameSize: 0xffffffff });
    expect(max.decode(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f))).toEqual([]);
  });

  it('end() reports TRUNCATED inside a prefix or a body, and nothing at a boundary', () => {
    const inPrefix = new FrameDecoder();
    inPrefix.decode(Uint8Array.of(0, 0));
    expect(codeOf(() => inPrefix.end())).toBe('TRUNCATED');

    const inBody = new FrameDecoder({ prefix: 'varint' });
    inBody.decode(Uint8Array.of(3, 1));
    expect(codeOf(() => inBody.end())).toBe('TRUNCATED');

    const clean = new FrameDecoder();
    clean.decode(encodeFrame(Uint8Array.of(9)));
    clean.end();
    expect(codeOf(() => clean.push(Uint8Array.of(1)))).toBe('ENDED');

    // Frames not yet taken stay available after end(); the unfinished tail then fails.
    const pending = new FrameDecoder({ prefix: 'uint16be' });
    pending.push(Uint8Array.of(0, 1, 7, 0));
    pending.end();
    expect([...pending.next()!]).toEqual([7]);
    expect(codeOf(() => pending.next())).toBe('TRUNCATED');
    expect(isFramingError(new FramingError('TRUNCATED', 'x'), 'TRUNCATED')).toBe(true);
  });
});
