/**
 * fast-check arbitraries for framing and for codec schemas.
 */
import fc from 'fast-check';
import type { AnyObjectField, Field } from '../codec/schema';
import { type PrefixKind, prefixLength, writePrefix } from '../prefix';

export const arbPrefix: fc.Arbitrary<PrefixKind> = fc.constantFrom<PrefixKind>(
  'uint32be',
  'uint16be',
  'varint',
);

/** Frame payloads: mostly small, some empty, now and then a few KiB. */
export function arbPayload(maxLength = 4096): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: Math.min(64, maxLength) }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength }) },
  );
}

/** Cuts `bytes` at the given offsets (any numbers; taken modulo the length, sorted). */
export function cutBytes(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  if (bytes.length === 0) return [];
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(start));
  return chunks; // empty chunks included on purpose: decoders must accept them
}

/** A way to cut a byte stream: cut offsets, to be used with {@link cutBytes}. */
export const arbCuts: fc.Arbitrary<number[]> = fc.oneof(
  fc.array(fc.nat(), { maxLength: 8 }),
  fc.array(fc.nat(), { maxLength: 200 }),
);

/** Reference prefix encoding (same wire format as `encodeFrame`, written independently). */
export function referenceFrame(prefix: PrefixKind, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefixLength(prefix, payload.length) + payload.length);
  out.set(payload, writePrefix(prefix, payload.length, out, 0));
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A framed byte stream: its prefix kind, its payloads, and how it is cut into chunks. */
export interface FramedStreamCase {
  prefix: PrefixKind;
  frames: Uint8Array[];
  chunks: Uint8Array[];
}

export function arbFramedStream(prefix?: PrefixKind): fc.Arbitrary<FramedStreamCase> {
  return fc
    .record({
      prefix: prefix === undefined ? arbPrefix : fc.constant(prefix),
      frames: fc.array(arbPayload(), { maxLength: 20 }),
      cuts: arbCuts,
    })
    .map(({ prefix, frames, cuts }) => ({
      prefix,
      frames,
      chunks: cutBytes(concatBytes(frames.map((f) => referenceFrame(prefix, f))), cuts),
    }));
}

/**
 * Bytes that look like framed streams gone wrong: random bytes, big or malformed prefixes,
 * truncations, all cut into random chunks.
 */
export function arbHostileChunks(): fc.Arbitrary<Uint8Array[]> {
  const prefixes = fc.oneof(
    fc.uint8Array({ maxLength: 6 }),
    fc.constantFrom(
      Uint8Array.of(0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0x7f, 0xff, 0xff, 0xff),
      Uint8Array.of(0x00, 0x10, 0x00, 0x01),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f),
      Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
      Uint8Array.of(0x80, 0x00),
      Uint8Array.of(0xff, 0xff),
    ),
  );
  return fc
    .record({
      parts: fc.array(fc.oneof(prefixes, fc.uint8Array({ maxLength: 300 })), { maxLength: 12 }),
      cuts: arbCuts,
    })
    .map(({ parts, cuts }) => cutBytes(concatBytes(parts), cuts));
}

const LONG = 24; // cap on generated string / bytes / array lengths, to keep runs fast

/** Valid values of a schema field (what `codec.encode` accepts). */
export function arbitraryFor<F extends Field>(field: F): fc.Arbitrary<unknown> {
  return arbitraryOf(field);
}

function arbitraryOf(field: Field): fc.Arbitrary<unknown> {
  switch (field.kind) {
    case 'uint':
    case 'int':
      return fc.bigInt({ min: BigInt(field.min), max: BigInt(field.max) }).map(Number);
    case 'float':
      return fc
        .double({ min: field.min, max: field.max, noNaN: true, noDefaultInfinity: true })
        .map((x) => (x === 0 ? 0 : x)); // msgpack has no integer -0
    case 'bool':
      return fc.boolean();
    case 'string': {
      const { minLength, maxLength } = field;
      return fc
        .string({
          unit: 'binary',
          minLength,
          maxLength: Math.max(minLength, Math.min(maxLength, LONG)),
        })
        .filter((s) => s.length >= minLength && s.length <= maxLength);
    }
    case 'bytes':
      return fc.uint8Array({
        minLength: field.minLength,
        maxLength: Math.max(field.minLength, Math.min(field.maxLength, LONG)),
      });
    case 'literal':
      return fc.constant(field.value);
    case 'enum':
      return fc.constantFrom(...field.values);
    case 'array':
      return fc.array(arbitraryOf(field.item), {
        minLength: field.minLength,
        maxLength: Math.max(field.minLength, Math.min(field.maxLength, 6)),
      });
    case 'optional':
      return arbitraryOf(field.inner);
    case 'object':
      return arbitraryObject(field, {});
    case 'union':
      return fc.oneof(
        ...Object.entries(field.variants).map(([name, variant]) =>
          arbitraryObject(variant, { [field.tag]: name }),
        ),
      );
  }
}

function arbitraryObject(
  field: AnyObjectField,
  fixed: Record<string, string>,
): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = Object.keys(fixed);
  for (const [name, value] of Object.entries(fixed)) model[name] = fc.constant(value);
  for (const [name, f] of Object.entries(field.fields)) {
    model[name] = arbitraryOf(f);
    if (f.kind !== 'optional') requiredKeys.push(name);
  }
  return fc.record(model, { requiredKeys });
}

/**
 * Bytes to throw at `codec.decode`: random bytes, msgpack of arbitrary JS values (including
 * extension types), and valid encodings with a byte changed or cut short.
 */
export function arbHostileMessage(valid?: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const mutations = valid
    ? [
        fc
          .record({ bytes: valid, index: fc.nat(), value: fc.integer({ min: 0, max: 255 }) })
          .map(({ bytes, index, value }) => {
            const copy = bytes.slice();
            if (copy.length > 0) copy[index % copy.length] = value;
            return copy;
          }),
        fc
          .record({ bytes: valid, cut: fc.nat() })
          .map(({ bytes, cut }) => bytes.slice(0, cut % (bytes.length + 1))),
      ]
    : [];
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc
      .array(fc.constantFrom(...MSGPACK_HEADS), { maxLength: 24 })
      .map((heads) => concatBytes(heads)),
    ...mutations,
  );
}

/** Token heads that exercise every msgpack format, extensions and huge counts included. */
const MSGPACK_HEADS: Uint8Array[] = [
  [0x00],
  [0x7f],
  [0xe0],
  [0x80],
  [0x81],
  [0x8f],
  [0x90],
  [0x91],
  [0x9f],
  [0xa1, 0x61],
  [0xa4, 0x74, 0x79, 0x70, 0x65],
  [0xc0],
  [0xc1],
  [0xc2],
  [0xc3],
  [0xc4, 0x02, 0x01, 0x02],
  [0xc5, 0xff, 0xff],
  [0xc6, 0xff, 0xff, 0xff, 0xff],
  [0xc7, 0x01, 0x72, 0x00],
  [0xca, 0x7f, 0x80, 0x00, 0x00],
  [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
  [0xcc, 0xff],
  [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
  [0xd4, 0x00, 0x00],
  [0xd4, 0x72, 0x40],
  [0xd6, 0xff, 0, 0, 0, 1],
  [0xd9, 0x01, 0x61],
  [0xdc, 0xff, 0xff],
  [0xdd, 0xff, 0xff, 0xff, 0xff],
  [0xde, 0xff, 0xff],
  [0xdf, 0x7f, 0xff, 0xff, 0xff],
].map((bytes) => Uint8Array.from(bytes));
