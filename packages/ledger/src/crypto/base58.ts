/**
 * Base58Check (developer reference, transactions.rst "Base58Check Encoding"): a version byte,
 * the payload and the first 4 bytes of hash256(version ‖ payload), written in base 58 with the
 * alphabet that omits 0, O, I and l; each leading zero byte becomes a leading '1'.
 */
import { LedgerError } from '../errors';
import { hash256 } from '../hash';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));
/** Longest string we decode (a WIF key is 52 characters; addresses 34). */
const MAX_LENGTH = 128;

export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  return '1'.repeat(zeros) + out;
}

export function base58Decode(s: string): Uint8Array {
  if (s.length > MAX_LENGTH) throw new LedgerError('DECODE', 'base58 string too long');
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  let n = 0n;
  for (const c of s) {
    const v = INDEX.get(c);
    if (v === undefined)
      throw new LedgerError('DECODE', `not a base58 character: ${JSON.stringify(c)}`);
    n = n * 58n + BigInt(v);
  }
  const body: number[] = [];
  while (n > 0n) {
    body.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return new Uint8Array([...new Array<number>(zeros).fill(0), ...body]);
}

export function base58checkEncode(version: number, payload: Uint8Array): string {
  const data = new Uint8Array([version, ...payload]);
  return base58Encode(new Uint8Array([...data, ...hash256(data).subarray(0, 4)]));
}

/** Decodes and verifies the checksum; throws LedgerError('DECODE'). */
export function base58checkDecode(s: string): { version: number; payload: Uint8Array } {
  const raw = base58Decode(s);
  if (raw.length < 5) throw new LedgerError('DECODE', 'base58check string too short');
  const data = raw.subarray(0, raw.length - 4);
  const check = hash256(data).subarray(0, 4);
  for (let i = 0; i < 4; i++) {
    if (check[i] !== raw[raw.length - 4 + i])
      throw new LedgerError('DECODE', 'base58check checksum mismatch');
  }
  return { version: data[0] as number, payload: data.slice(1) };
}
