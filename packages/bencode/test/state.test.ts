/**
 * Model-based test (fc.commands) of the package's only state: the key cache of the decoder and
 * the scratch buffer the encoder keeps between calls (grown past its 4 MiB keep limit at times,
 * and re-entered from a getter). The model is stateless: every command must give the same
 * result as a fresh, cache-free computation, whatever ran before.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { bytesToBinary } from '../src/binary';
import { type BencodeValue, decode, encode } from '../src/index';
import { keyString } from '../src/key-cache';
import { arbBencodeValue, bencodeEquals } from '../src/testing';

type Model = { commands: number };
type Real = Record<string, never>;

/** Decodes a key through the cache and compares it with the cache-free conversion. */
class KeyCommand implements fc.Command<Model, Real> {
  constructor(
    readonly key: Uint8Array,
    readonly pad: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model): void {
    model.commands++;
    const bytes = new Uint8Array(this.pad + this.key.length + 2);
    bytes.set(this.key, this.pad);
    expect(keyString(bytes, this.pad, this.pad + this.key.length)).toBe(bytesToBinary(this.key));
  }
  toString(): string {
    return `key(${Buffer.from(this.key).toString('hex')}, pad ${this.pad})`;
  }
}

/** Encodes a value (optionally with a large blob, optionally re-entering encode) and decodes it back. */
class EncodeCommand implements fc.Command<Model, Real> {
  constructor(
    readonly value: BencodeValue,
    readonly blobBytes: number,
    readonly reenter: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: Model): void {
    model.commands++;
    const blob = new Uint8Array(this.blobBytes).fill(0xab);
    const value = this.value;
    const expected: BencodeValue = Object.assign(Object.create(null), {
      a: value,
      b: blob,
      c: encode(value),
    });
    // With `reenter`, the getter runs in the middle of the outer encode (keys are read in order).
    const input = this.reenter
      ? {
          a: value,
          b: blob,
          get c(): Uint8Array {
            return encode(value);
          },
        }
      : { a: value, b: blob, c: encode(value) };
    const out = encode(input);
    expect(bencodeEquals(decode(out), expected)).toBe(true);
  }
  toString(): string {
    return `encode(blob ${this.blobBytes} B${this.reenter ? ', re-entrant' : ''})`;
  }
}

it('key cache and encoder scratch buffer behave like stateless functions (1000 runs)', () => {
  const key = fc.oneof(
    fc.uint8Array({ maxLength: 5 }).map((b) => b.map((x) => 0x61 + (x % 3))),
    fc.uint8Array({ maxLength: 40 }),
  );
  const commands = [
    fc.tuple(key, fc.nat(8)).map(([k, pad]) => new KeyCommand(k, pad)),
    fc
      .tuple(
        arbBencodeValue({ maxDepth: 2 }),
        fc.oneof(
          { arbitrary: fc.nat(100), weight: 20 },
          { arbitrary: fc.nat(70_000), weight: 3 },
          { arbitrary: fc.constant(4 * 1024 * 1024 + 1), weight: 1 },
        ),
        fc.boolean(),
      )
      .map(([v, blob, reenter]) => new EncodeCommand(v, blob, reenter)),
  ];
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 20 }), (cmds) => {
      fc.modelRun(() => ({ model: { commands: 0 }, real: {} }), cmds);
    }),
    { numRuns: 1000 },
  );
});
