/**
 * Loads ../shared/vectors/bencode/bencode_vectors.json (read in place, never copied) and turns
 * its cases into bytes and expected values. Override the shared folder with PEERKIT_SHARED.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BencodeDict, BencodeValue } from '../src/index';

export type VectorValue =
  | { int: string }
  | { str: string }
  | { hex: string }
  | { list: VectorValue[] }
  | { dict: [VectorValue, VectorValue][] };

export interface VectorCase {
  id: string;
  input?: string;
  input_hex?: string;
  input_repeat?: [string, number][] | null;
  bep3: 'valid' | 'invalid' | 'unspecified';
  canonical: boolean | null;
  value?: VectorValue;
  libtorrent?: {
    result: 'ok' | 'soft_error' | 'error';
    error?: string;
    error_pos?: number;
    note?: string;
  } | null;
  note?: string;
  source?: string;
}

const shared =
  process.env.PEERKIT_SHARED ?? fileURLToPath(new URL('../../../../shared', import.meta.url));

export function loadVectors(): VectorCase[] {
  const file = join(shared, 'vectors', 'bencode', 'bencode_vectors.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: VectorCase[] }).cases;
}

/** A string whose chars are all ≤ U+00FF, as bytes. */
function binary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

export function inputBytes(c: VectorCase): Uint8Array {
  if (c.input !== undefined) return binary(c.input);
  if (c.input_hex !== undefined) return hex(c.input_hex);
  // `input_repeat`: each chunk repeated `count` times; null is the empty input.
  const parts = (c.input_repeat ?? []).map(([chunk, count]) => chunk.repeat(count));
  return binary(parts.join(''));
}

/** The decoded form the vector's `value` describes (dict entries in input order; a repeated key keeps the last value). */
export function expectedValue(v: VectorValue): BencodeValue {
  if ('int' in v) {
    const big = BigInt(v.int);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }
  if ('str' in v) return binary(v.str);
  if ('hex' in v) return hex(v.hex);
  if ('list' in v) return v.list.map(expectedValue);
  const dict: BencodeDict = Object.create(null);
  for (const [k, val] of v.dict) {
    const key = expectedValue(k);
    if (!(key instanceof Uint8Array)) throw new Error('vector dict key is not a string');
    dict[String.fromCharCode(...key)] = expectedValue(val);
  }
  return dict;
}
