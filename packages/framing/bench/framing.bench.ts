/**
 * Framing and codec throughput on a stream of ~200-byte msgpack messages, next to references
 * measured in the same run: msgpackr's bare `unpack`/`pack` (on pre-split buffers, and on the
 * same chunked stream split by the same decoder) and JSON.parse/stringify. A second table
 * measures Noise-sized frames that span reads: `next()` (one copy) against `nextParts()`.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { fmt, report } from '@peerkit/dev-kit/bench';
import { pack, unpack } from 'msgpackr';
import { defineMessage, encodeFrame, FrameDecoder, t } from '../src/index';

const COUNT = 1000;
const MS = Number(process.env.BENCH_MS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PASSES = Number(process.env.BENCH_PASSES ?? 3);

const Chat = defineMessage({
  room: t.string({ maxLength: 64 }),
  author: t.bytes({ length: 32 }),
  sentAt: t.uint(),
  seq: t.uint(),
  body: t.string({ maxLength: 4096 }),
  mood: t.optional(t.enum(['happy', 'sad'])),
});

/** A small seeded PRNG (xorshift32) so every run cuts the stream the same way. */
function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}
const random = prng(0x5eed);

const messages = Array.from({ length: COUNT }, (_, i) => ({
  room: `room-${i % 17}`,
  author: Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256)),
  sentAt: 1_700_000_000_000 + i * 1000,
  seq: i,
  body: `message ${i}: ${'lorem ipsum dolor sit amet, consectetur adipiscing elit '.repeat(3).slice(0, 85 + (i % 40))}`,
  mood: i % 3 === 0 ? ('happy' as const) : undefined,
}));
const encoded = messages.map((m) => Chat.encode(m));
const avgSize = encoded.reduce((n, b) => n + b.length, 0) / COUNT;

// The framed stream, cut into random chunk sizes of 1 to 8192 bytes.
const stream = Buffer.concat(encoded.map((b) => encodeFrame(b)));
const chunks: Uint8Array[] = [];
for (let pos = 0; pos < stream.length; ) {
  const size = 1 + Math.floor(random() * 8192);
  chunks.push(stream.subarray(pos, pos + size));
  pos += size;
}
// The same stream as a socket delivers it: every chunk in a buffer of its own.
const ownChunks = chunks.map((c) => Uint8Array.from(c));
// JSON of the same messages (bytes as hex: JSON has no byte strings).
const json = messages.map((m) =>
  JSON.stringify({ ...m, author: Buffer.from(m.author).toString('hex') }),
);

/**
 * Like `rate` of @peerkit/dev-kit/bench, but on this process's CPU time (user + system) rather than wall time:
 * on a machine shared with other jobs, time spent waiting for a core is not counted, which
 * keeps the ratios between cases stable.
 */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
function rate(fn: () => void, ms: number): number {
  const warmUntil = cpuMs() + Math.min(50, ms / 4);
  while (cpuMs() < warmUntil) fn();
  let calls = 0;
  const start = cpuMs();
  let now = start;
  while (now - start < ms) {
    fn();
    calls++;
    now = cpuMs();
  }
  return (calls * 1000) / (now - start);
}

let sink = 0;

function splitOnly(): void {
  const decoder = new FrameDecoder();
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) sink += f.length;
  }
}
function splitInPlace(): void {
  const decoder = new FrameDecoder();
  const visit = (_bytes: Uint8Array, start: number, end: number) => {
    sink += end - start;
  };
  for (const chunk of chunks) decoder.decodeEach(chunk, visit);
}
function framedDecode(): void {
  const decoder = new FrameDecoder();
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) sink += Chat.decode(f).seq;
  }
}
function framedBareUnpack(): void {
  const decoder = new FrameDecoder();
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) sink += unpack(f).seq;
  }
}
/** decodeEach + codec.decodeRange: frames decoded where they lie, no view per frame. */
function inPlaceDecode(input: Uint8Array[]): void {
  const decoder = new FrameDecoder();
  const visit = (bytes: Uint8Array, start: number, end: number) => {
    sink += Chat.decodeRange(bytes, start, end).seq;
  };
  for (const chunk of input) decoder.decodeEach(chunk, visit);
}
/** decodeEach + msgpackr's own range form, `unpack(chunk, { start, end })`. */
function inPlaceBareUnpack(input: Uint8Array[]): void {
  const decoder = new FrameDecoder();
  const range = { start: 0, end: 0 };
  const visit = (bytes: Uint8Array, start: number, end: number) => {
    range.start = start;
    range.end = end;
    sink += unpack(bytes, range).seq;
  };
  for (const chunk of input) decoder.decodeEach(chunk, visit);
}
function bareUnpack(): void {
  for (const b of encoded) sink += unpack(b).seq;
}
function codecDecode(): void {
  for (const b of encoded) sink += Chat.decode(b).seq;
}
function jsonParse(): void {
  for (const s of json) sink += JSON.parse(s).seq;
}
function codecRoundTrip(): void {
  for (const m of messages) sink += Chat.decode(Chat.encode(m)).seq;
}
function bareRoundTrip(): void {
  for (const m of messages) sink += unpack(pack(m)).seq;
}
function jsonRoundTrip(): void {
  for (const m of messages) {
    sink += JSON.parse(JSON.stringify({ ...m, author: Buffer.from(m.author).toString('hex') })).seq;
  }
}

/*
 * Small control messages (~20 bytes, no bytes fields), as gossip and the messenger send many
 * of: the same stream setup, chunks of 4,096 bytes.
 */
const Control = defineMessage({ topic: t.string({ maxLength: 64 }), seq: t.uint(), ok: t.bool() });
const controlEncoded = Array.from({ length: COUNT }, (_, i) =>
  Control.encode({ topic: `topic-${i % 13}`, seq: i, ok: i % 2 === 0 }),
);
const controlSize = controlEncoded.reduce((total, b) => total + b.length, 0) / COUNT;
const controlStream = Buffer.concat(controlEncoded.map((b) => encodeFrame(b)));
const controlChunks: Uint8Array[] = [];
for (let pos = 0; pos < controlStream.length; pos += 4096) {
  controlChunks.push(controlStream.subarray(pos, pos + 4096));
}
const smallCases = {
  bareUnpack: () => {
    for (const b of controlEncoded) sink += unpack(b).seq;
  },
  inPlaceBareUnpack: () => {
    const decoder = new FrameDecoder();
    const range = { start: 0, end: 0 };
    for (const chunk of controlChunks) {
      decoder.decodeEach(chunk, (bytes, start, end) => {
        range.start = start;
        range.end = end;
        sink += unpack(bytes, range).seq;
      });
    }
  },
  framedDecode: () => {
    const decoder = new FrameDecoder();
    for (const chunk of controlChunks) {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
        sink += Control.decode(f).seq;
      }
    }
  },
  inPlaceDecode: () => {
    const decoder = new FrameDecoder();
    for (const chunk of controlChunks) {
      decoder.decodeEach(chunk, (bytes, start, end) => {
        sink += Control.decodeRange(bytes, start, end).seq;
      });
    }
  },
};

const cases = {
  splitOnly,
  splitInPlace,
  framedDecode,
  framedBareUnpack,
  inPlaceDecode: () => inPlaceDecode(chunks),
  inPlaceBareUnpack: () => inPlaceBareUnpack(chunks),
  ownInPlaceDecode: () => inPlaceDecode(ownChunks),
  ownInPlaceBareUnpack: () => inPlaceBareUnpack(ownChunks),
  bareUnpack,
  codecDecode,
  jsonParse,
  codecRoundTrip,
  bareRoundTrip,
  jsonRoundTrip,
};

/*
 * Noise-sized frames: 65,535-byte messages behind a uint16be prefix (65,537 bytes on the wire)
 * read in 65,536-byte chunks, so nearly every message spans two reads. `next()` copies each
 * such message once; `nextParts()` hands over the views. The consumer runs ChaCha20-Poly1305
 * (node:crypto) over the bytes, as a Noise transport would to decrypt them.
 */
const NOISE_COUNT = 32;
const noiseStream = Buffer.concat(
  Array.from({ length: NOISE_COUNT }, (_, i) =>
    encodeFrame(new Uint8Array(0xffff).fill(i), { prefix: 'uint16be' }),
  ),
);
const noiseChunks: Uint8Array[] = [];
for (let pos = 0; pos < noiseStream.length; pos += 65536) {
  noiseChunks.push(Uint8Array.from(noiseStream.subarray(pos, pos + 65536)));
}
const key = new Uint8Array(32);
const nonce = new Uint8Array(12);
function noiseNext(cipher: boolean): void {
  const decoder = new FrameDecoder({ prefix: 'uint16be' });
  for (const chunk of noiseChunks) {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
      if (cipher) sink += createCipheriv('chacha20-poly1305', key, nonce).update(f).length;
      else sink += f.length;
    }
  }
}
function noiseParts(cipher: boolean): void {
  const decoder = new FrameDecoder({ prefix: 'uint16be' });
  for (const chunk of noiseChunks) {
    decoder.push(chunk);
    for (let parts = decoder.nextParts(); parts !== undefined; parts = decoder.nextParts()) {
      if (cipher) {
        const c = createCipheriv('chacha20-poly1305', key, nonce);
        for (const part of parts) sink += c.update(part).length;
      } else {
        for (const part of parts) sink += part.length;
      }
    }
  }
}
const noiseCases = {
  next: () => noiseNext(false),
  parts: () => noiseParts(false),
  nextCipher: () => noiseNext(true),
  partsCipher: () => noiseParts(true),
};
/** Every case, with the number of messages (or frames) one call handles. */
const all: Record<string, [() => void, number]> = {};
for (const [name, fn] of Object.entries(cases)) all[name] = [fn, COUNT];
for (const [name, fn] of Object.entries(noiseCases)) all[`noise.${name}`] = [fn, NOISE_COUNT];
for (const [name, fn] of Object.entries(smallCases)) all[`small.${name}`] = [fn, COUNT];

/**
 * Each case runs in a process of its own, as an application running only that code path
 * would: in one shared process msgpackr's and the codec's call sites would see every other
 * case's buffers and objects too, and slow each other down unevenly. `PASSES` passes over
 * all cases (so that a burst of load on a shared machine hits every case alike), `ROUNDS`
 * short measurements per case and pass, the best one kept.
 */
function measureAll(): Record<string, number> {
  const only = process.env.BENCH_CASE;
  if (only !== undefined) {
    const [fn, perCall] = all[only]!;
    let bestRate = 0;
    for (let round = 0; round < ROUNDS; round++) {
      bestRate = Math.max(bestRate, rate(fn, MS) * perCall);
    }
    console.log(`BENCH_RESULT ${JSON.stringify({ rate: bestRate, sink: sink % 1000 })}`);
    process.exit(0);
  }
  const results: Record<string, number> = {};
  for (let pass = 0; pass < PASSES; pass++) {
    for (const name of Object.keys(all))
      results[name] = Math.max(results[name] ?? 0, runCase(name));
  }
  return results;
}

/** Runs one case in a child process; returns its best rate. */
function runCase(name: string): number {
  const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, BENCH_CASE: name },
    encoding: 'utf8',
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (child.status !== 0 || line === undefined) {
    throw new Error(`bench case ${name} failed: ${child.stderr}`);
  }
  const result = JSON.parse(line.slice('BENCH_RESULT '.length)) as { rate: number; sink: number };
  sink += result.sink;
  return result.rate;
}
const best = measureAll();
const r = best as Record<keyof typeof cases, number>;
const mbps = (perSecond: number) => (perSecond * (avgSize + 4)) / 1e6;
const overhead = (ours: number, ref: number) => `${fmt((ref / ours - 1) * 100, 2)}%`;

report({
  package: '@peerkit/framing',
  name: 'decode',
  title: `decoding a stream of ${COUNT} ~${Math.round(avgSize)}-byte msgpack messages (uint32be frames, random 1-8192 byte chunks)`,
  columns: [
    'what',
    'messages/s',
    'MB/s (framed)',
    'time vs (A) bare `unpack`, pre-split',
    'time vs (B) bare `unpack`, same stream in place',
  ],
  rows: [
    ['frame splitting only: `next()` (a view per frame)', r.splitOnly, mbps(r.splitOnly), '-', '-'],
    [
      'frame splitting only: `decodeEach()` (in place)',
      r.splitInPlace,
      mbps(r.splitInPlace),
      '-',
      '-',
    ],
    [
      '(A) msgpackr bare `unpack(frame)`, pre-split buffers',
      r.bareUnpack,
      mbps(r.bareUnpack),
      '0%',
      overhead(r.bareUnpack, r.inPlaceBareUnpack),
    ],
    [
      '(B) `decodeEach` + bare `unpack(chunk, { start, end })`',
      r.inPlaceBareUnpack,
      mbps(r.inPlaceBareUnpack),
      overhead(r.inPlaceBareUnpack, r.bareUnpack),
      '0%',
    ],
    [
      '`next()` + bare `unpack(frame)`',
      r.framedBareUnpack,
      mbps(r.framedBareUnpack),
      overhead(r.framedBareUnpack, r.bareUnpack),
      overhead(r.framedBareUnpack, r.inPlaceBareUnpack),
    ],
    [
      'codec.decode (scan + unpack + validate), pre-split',
      r.codecDecode,
      mbps(r.codecDecode),
      overhead(r.codecDecode, r.bareUnpack),
      '-',
    ],
    [
      '`next()` + codec.decode',
      r.framedDecode,
      mbps(r.framedDecode),
      overhead(r.framedDecode, r.bareUnpack),
      overhead(r.framedDecode, r.inPlaceBareUnpack),
    ],
    [
      '**`decodeEach` + codec.decodeRange** (framing + validation)',
      r.inPlaceDecode,
      mbps(r.inPlaceDecode),
      overhead(r.inPlaceDecode, r.bareUnpack),
      overhead(r.inPlaceDecode, r.inPlaceBareUnpack),
    ],
    ['JSON.parse of the same messages', r.jsonParse, '-', overhead(r.jsonParse, r.bareUnpack), '-'],
  ],
});

report({
  package: '@peerkit/framing',
  name: 'decode-own-chunks',
  title: 'the same stream, each chunk in a buffer of its own (as a socket delivers it)',
  columns: ['what', 'messages/s', 'time vs bare `unpack` in place'],
  rows: [
    ['`decodeEach` + bare `unpack(chunk, { start, end })`', r.ownInPlaceBareUnpack, '0%'],
    [
      '`decodeEach` + codec.decodeRange',
      r.ownInPlaceDecode,
      overhead(r.ownInPlaceDecode, r.ownInPlaceBareUnpack),
    ],
  ],
});

const small = (name: keyof typeof smallCases) => best[`small.${name}`]!;
report({
  package: '@peerkit/framing',
  name: 'decode-small',
  title: `${COUNT} small control messages of ~${Math.round(controlSize)} bytes (no bytes fields; uint32be frames, 4,096-byte chunks)`,
  columns: ['what', 'messages/s', 'time vs (A)', 'time vs (B)'],
  rows: [
    ['(A) bare `unpack(frame)`, pre-split buffers', small('bareUnpack'), '0%', '-'],
    [
      '(B) `decodeEach` + bare `unpack(chunk, { start, end })`',
      small('inPlaceBareUnpack'),
      overhead(small('inPlaceBareUnpack'), small('bareUnpack')),
      '0%',
    ],
    [
      '`next()` + codec.decode',
      small('framedDecode'),
      overhead(small('framedDecode'), small('bareUnpack')),
      overhead(small('framedDecode'), small('inPlaceBareUnpack')),
    ],
    [
      '`decodeEach` + codec.decodeRange',
      small('inPlaceDecode'),
      overhead(small('inPlaceDecode'), small('bareUnpack')),
      overhead(small('inPlaceDecode'), small('inPlaceBareUnpack')),
    ],
  ],
});

report({
  package: '@peerkit/framing',
  name: 'roundtrip',
  title: 'encode + decode of the same messages',
  columns: ['what', 'messages/s', 'time vs bare msgpackr'],
  rows: [
    ['msgpackr bare `pack` + `unpack` (reference)', r.bareRoundTrip, '0%'],
    [
      'codec.encode + codec.decode (with validation)',
      r.codecRoundTrip,
      overhead(r.codecRoundTrip, r.bareRoundTrip),
    ],
    ['JSON.stringify + JSON.parse', r.jsonRoundTrip, overhead(r.jsonRoundTrip, r.bareRoundTrip)],
  ],
  notes: [`(checksum ${sink % 1000})`],
});

const n = {
  next: best['noise.next']!,
  parts: best['noise.parts']!,
  nextCipher: best['noise.nextCipher']!,
  partsCipher: best['noise.partsCipher']!,
};
const noiseMBps = (perSecond: number) => (perSecond * 65537) / 1e6;
report({
  package: '@peerkit/framing',
  name: 'spanning-frames',
  title: `${NOISE_COUNT} Noise-sized frames (uint16be, 65,535-byte payloads) read in 65,536-byte chunks`,
  columns: ['what', 'frames/s', 'MB/s', 'time vs `next()`'],
  rows: [
    ['`next()`: a spanning frame is copied once', n.next, noiseMBps(n.next), '0%'],
    ['`nextParts()`: views, zero-copy', n.parts, noiseMBps(n.parts), overhead(n.parts, n.next)],
    ['`next()` + ChaCha20-Poly1305 over the frame', n.nextCipher, noiseMBps(n.nextCipher), '0%'],
    [
      '`nextParts()` + ChaCha20-Poly1305 over the parts',
      n.partsCipher,
      noiseMBps(n.partsCipher),
      overhead(n.partsCipher, n.nextCipher),
    ],
  ],
  notes: [`(checksum ${sink % 1000})`],
});
