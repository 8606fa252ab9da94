/**
 * The MSE/PE handshake as a sans-IO state machine (mse.txt "The handshake packet format"):
 * feed it the bytes that arrive (`receive`), send what it returns, until it returns the
 * outcome: the negotiated method, the two RC4 ciphers and the payload bytes that came with the
 * handshake. It never blocks and never reads a clock; a bad or truncated handshake throws
 * `MseError` (the I/O shell adds the timeout). How the bytes are split across `receive` calls
 * never changes the outcome (test/mse-handshake.test.ts).
 *
 *   1 A->B: Ya, PadA
 *   2 B->A: Yb, PadB
 *   3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
 *           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
 *   5 A->B: ENCRYPT2(payload)
 */
import type { Random } from '@peerkit/transport';
import { MseError } from './errors';
import {
  cipherA,
  cipherB,
  DH_KEY_LENGTH,
  dhPublicKey,
  dhSecret,
  PRIVATE_KEY_LENGTH,
  req1Hash,
  req2Hash,
  req3Hash,
  xor20,
} from './keys';
import type { Rc4 } from './rc4';

/** crypto_provide / crypto_select bits (mse.txt "ENCRYPT2()"). */
export const CRYPTO_PLAINTEXT = 0x01;
export const CRYPTO_RC4 = 0x02;
/** PadA..PadD are 0..512 bytes. */
export const MAX_PAD_LENGTH = 512;
/** VC: eight zero bytes. */
const VC_LENGTH = 8;

export type MseMethod = 'plaintext' | 'rc4';

/** A finished handshake. */
export interface MseOutcome {
  method: MseMethod;
  /** The stream key both sides proved they know (the info-hash). */
  skey: Uint8Array;
  /** Encrypts what we send after the handshake (`undefined` for plaintext). */
  encrypt: Rc4 | undefined;
  /** Decrypts what we receive after the handshake (`undefined` for plaintext). */
  decrypt: Rc4 | undefined;
  /** Payload bytes already received (B: IA and what followed it), decrypted. */
  payload: Uint8Array;
}

export interface MseStep {
  /** Bytes to send now, if any. */
  send?: Uint8Array;
  /** Set once the handshake is complete. */
  outcome?: MseOutcome;
}

export interface MseInitiatorOptions {
  /** SKEY: the torrent's info-hash. */
  skey: Uint8Array;
  /** crypto_provide: `CRYPTO_PLAINTEXT | CRYPTO_RC4` (prefer) or `CRYPTO_RC4` (require). */
  provide: number;
  random: Random;
  /** IA, sent encrypted with step 3 (at most 65535 bytes). */
  initialPayload?: Uint8Array;
  /** Most bytes of PadA (default 512; 0 sends none). */
  maxPadLength?: number;
}

export interface MseResponderOptions {
  /** Finds the stream key whose HASH('req2', SKEY) this is (`mseKeyLookup(infoHashes)`). */
  lookupSkey(req2: Uint8Array): Uint8Array | undefined;
  /** The method B selects from crypto_provide, or undefined to refuse (`selectMethod`). */
  select(provide: number): number | undefined;
  random: Random;
  maxPadLength?: number;
}

/** `lookupSkey` for a fixed set of info-hashes. */
export function mseKeyLookup(
  skeys: readonly Uint8Array[],
): (req2: Uint8Array) => Uint8Array | undefined {
  const byHash = new Map(skeys.map((k) => [Buffer.from(req2Hash(k)).toString('hex'), k]));
  return (req2) => byHash.get(Buffer.from(req2).toString('hex'));
}

/** Bytes received, consumed from the front. */
class InputBuffer {
  #bytes = new Uint8Array(0);
  push(chunk: Uint8Array): void {
    if (this.#bytes.length === 0) this.#bytes = new Uint8Array(chunk);
    else this.#bytes = Buffer.concat([this.#bytes, chunk]);
  }
  get length(): number {
    return this.#bytes.length;
  }
  peek(): Uint8Array {
    return this.#bytes;
  }
  take(n: number): Uint8Array {
    const out = this.#bytes.subarray(0, n);
    this.#bytes = this.#bytes.subarray(n);
    return out;
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, limit: number): number {
  return Buffer.from(
    haystack.buffer,
    haystack.byteOffset,
    Math.min(haystack.length, limit),
  ).indexOf(needle);
}

function randomPad(random: Random, max: number): Uint8Array {
  return random.bytes(max > 0 ? random.int(max + 1) : 0);
}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/** Finishes the outcome: the rest of the input is payload (decrypted when RC4). */
function finish(
  method: MseMethod,
  skey: Uint8Array,
  encrypt: Rc4,
  decrypt: Rc4,
  head: Uint8Array,
  rest: Uint8Array,
): MseOutcome {
  const tail = method === 'rc4' ? decrypt.processCopy(rest) : new Uint8Array(rest);
  const payload = new Uint8Array(head.length + tail.length);
  payload.set(head, 0);
  payload.set(tail, head.length);
  return method === 'rc4'
    ? { method, skey, encrypt, decrypt, payload }
    : { method, skey, encrypt: undefined, decrypt: undefined, payload };
}

/** Peer A: opens the connection. `start()` gives step 1; `receive` ends with step 4. */
export class MseInitiator {
  readonly #options: MseInitiatorOptions;
  readonly #privateKey: Uint8Array;
  readonly #input = new InputBuffer();
  #state: 'start' | 'await-yb' | 'await-vc' | 'await-select' | 'await-padd' | 'done' = 'start';
  #decrypt: Rc4 | undefined;
  #encrypt: Rc4 | undefined;
  /** ENCRYPT(VC): the first eight bytes of B's keystream, what A resynchronises on. */
  #vcPattern: Uint8Array | undefined;
  #select = 0;
  #padDLength = 0;

  constructor(options: MseInitiatorOptions) {
    if ((options.initialPayload?.length ?? 0) > 0xffff)
      throw new RangeError('MSE initial payload is at most 65535 bytes');
    this.#options = options;
    this.#privateKey = options.random.bytes(PRIVATE_KEY_LENGTH);
  }

  /** Step 1: Ya, PadA. */
  start(): Uint8Array {
    if (this.#state !== 'start') throw new Error('MseInitiator.start called twice');
    this.#state = 'await-yb';
    const pad = randomPad(this.#options.random, this.#options.maxPadLength ?? MAX_PAD_LENGTH);
    return Buffer.concat([dhPublicKey(this.#privateKey), pad]);
  }

  receive(chunk: Uint8Array): MseStep {
    if (this.#state === 'start' || this.#state === 'done')
      throw new Error(`MseInitiator.receive in state ${this.#state}`);
    this.#input.push(chunk);
    let send: Uint8Array | undefined;
    const input = this.#input;
    if (this.#state === 'await-yb') {
      if (input.length < DH_KEY_LENGTH) return {};
      send = this.#step3(input.take(DH_KEY_LENGTH));
      this.#state = 'await-vc';
    }
    if (this.#state === 'await-vc') {
      // mse.txt step 5 termination: VC within PadB's 512 bytes after Yb.
      const at = indexOf(input.peek(), this.#vcPattern!, MAX_PAD_LENGTH + VC_LENGTH);
      if (at < 0) {
        if (input.length >= MAX_PAD_LENGTH + VC_LENGTH)
          throw new MseError('SYNC_NOT_FOUND', 'no ENCRYPT(VC) within 520 bytes after Yb');
        return { send };
      }
      input.take(at + VC_LENGTH);
      this.#decrypt!.skip(VC_LENGTH); // VC was ENCRYPT()ed with B's stream: step past it
      this.#state = 'await-select';
    }
    if (this.#state === 'await-select') {
      if (input.length < 6) return { send };
      const fields = this.#decrypt!.processCopy(input.take(6));
      this.#select = (fields[0]! << 24) | (fields[1]! << 16) | (fields[2]! << 8) | fields[3]!;
      this.#padDLength = u16(fields, 4);
      if (this.#padDLength > MAX_PAD_LENGTH)
        throw new MseError('INVALID_PAD_LENGTH', `len(PadD) ${this.#padDLength} > 512`);
      this.#state = 'await-padd';
    }
    if (this.#state === 'await-padd') {
      if (input.length < this.#padDLength) return { send };
      this.#decrypt!.process(input.take(this.#padDLength).slice());
      const select = this.#select >>> 0;
      const provide = this.#options.provide;
      let method: MseMethod;
      if (select === CRYPTO_RC4 && provide & CRYPTO_RC4) method = 'rc4';
      else if (select === CRYPTO_PLAINTEXT && provide & CRYPTO_PLAINTEXT) method = 'plaintext';
      else
        throw new MseError(
          'INVALID_CRYPTO_SELECT',
          `crypto_select 0x${select.toString(16)} is not one method of 0x${provide.toString(16)}`,
        );
      this.#state = 'done';
      const rest = input.take(input.length);
      return {
        send,
        outcome: finish(
          method,
          this.#options.skey,
          this.#encrypt!,
          this.#decrypt!,
          new Uint8Array(0),
          rest,
        ),
      };
    }
    return { send };
  }

  /** Step 3, once Yb is known. */
  #step3(yb: Uint8Array): Uint8Array {
    const { skey, provide, initialPayload = new Uint8Array(0) } = this.#options;
    const s = dhSecret(this.#privateKey, yb);
    this.#encrypt = cipherA(s, skey);
    this.#decrypt = cipherB(s, skey);
    this.#vcPattern = cipherB(s, skey).processCopy(new Uint8Array(VC_LENGTH));
    // VC (8), crypto_provide (4), len(PadC) (2) = 0, PadC (none), len(IA) (2), IA.
    const plain = new Uint8Array(VC_LENGTH + 4 + 2 + 2 + initialPayload.length);
    const view = new DataView(plain.buffer);
    view.setUint32(VC_LENGTH, provide);
    view.setUint16(VC_LENGTH + 4, 0);
    view.setUint16(VC_LENGTH + 6, initialPayload.length);
    plain.set(initialPayload, VC_LENGTH + 8);
    return Buffer.concat([
      req1Hash(s),
      xor20(req2Hash(skey), req3Hash(s)),
      this.#encrypt.process(plain),
    ]);
  }
}

/** Peer B: accepts the connection. `receive` answers step 1 with step 2 and step 3 with step 4. */
export class MseResponder {
  readonly #options: MseResponderOptions;
  readonly #privateKey: Uint8Array;
  readonly #input = new InputBuffer();
  #state:
    | 'await-ya'
    | 'await-req1'
    | 'await-skey'
    | 'await-provide'
    | 'await-padc'
    | 'await-ia'
    | 'done' = 'await-ya';
  #secret: Uint8Array | undefined;
  #req1: Uint8Array | undefined;
  #skey: Uint8Array | undefined;
  #decrypt: Rc4 | undefined;
  #provide = 0;
  #padCLength = 0;
  #iaLength = 0;

  constructor(options: MseResponderOptions) {
    this.#options = options;
    this.#privateKey = options.random.bytes(PRIVATE_KEY_LENGTH);
  }

  receive(chunk: Uint8Array): MseStep {
    if (this.#state === 'done') throw new Error('MseResponder.receive after the handshake');
    this.#input.push(chunk);
    const input = this.#input;
    let send: Uint8Array | undefined;
    if (this.#state === 'await-ya') {
      if (input.length < DH_KEY_LENGTH) return {};
      const ya = input.take(DH_KEY_LENGTH);
      this.#secret = dhSecret(this.#privateKey, ya);
      this.#req1 = req1Hash(this.#secret);
      const pad = randomPad(this.#options.random, this.#options.maxPadLength ?? MAX_PAD_LENGTH);
      send = Buffer.concat([dhPublicKey(this.#privateKey), pad]);
      this.#state = 'await-req1';
    }
    if (this.#state === 'await-req1') {
      // mse.txt step 4 termination: HASH('req1', S) within 628 bytes of the connection start.
      const at = indexOf(input.peek(), this.#req1!, MAX_PAD_LENGTH + 20);
      if (at < 0) {
        if (input.length >= MAX_PAD_LENGTH + 20)
          throw new MseError('SYNC_NOT_FOUND', "no HASH('req1', S) within 628 bytes");
        return { send };
      }
      input.take(at + 20);
      this.#state = 'await-skey';
    }
    if (this.#state === 'await-skey') {
      if (input.length < 20) return { send };
      const req2 = xor20(input.take(20), req3Hash(this.#secret!));
      const skey = this.#options.lookupSkey(req2);
      if (skey === undefined)
        throw new MseError('UNKNOWN_SKEY', "HASH('req2', SKEY) matches no torrent of ours");
      this.#skey = skey;
      this.#decrypt = cipherA(this.#secret!, skey);
      this.#state = 'await-provide';
    }
    if (this.#state === 'await-provide') {
      if (input.length < VC_LENGTH + 6) return { send };
      const fields = this.#decrypt!.processCopy(input.take(VC_LENGTH + 6));
      if (fields.subarray(0, VC_LENGTH).some((b) => b !== 0))
        throw new MseError('INVALID_VC', 'VC did not decrypt to zeros');
      const view = new DataView(fields.buffer);
      this.#provide = view.getUint32(VC_LENGTH);
      this.#padCLength = view.getUint16(VC_LENGTH + 4);
      if (this.#padCLength > MAX_PAD_LENGTH)
        throw new MseError('INVALID_PAD_LENGTH', `len(PadC) ${this.#padCLength} > 512`);
      this.#state = 'await-padc';
    }
    if (this.#state === 'await-padc') {
      if (input.length < this.#padCLength + 2) return { send };
      const fields = this.#decrypt!.processCopy(input.take(this.#padCLength + 2));
      this.#iaLength = u16(fields, this.#padCLength);
      this.#state = 'await-ia';
    }
    if (this.#state === 'await-ia') {
      if (input.length < this.#iaLength) return { send };
      const ia = this.#decrypt!.processCopy(input.take(this.#iaLength));
      const selected = this.#options.select(this.#provide);
      if (selected === undefined || (selected & this.#provide) === 0)
        throw new MseError(
          'NO_COMMON_METHOD',
          `crypto_provide 0x${this.#provide.toString(16)} offers no method we allow`,
        );
      const method: MseMethod = selected === CRYPTO_RC4 ? 'rc4' : 'plaintext';
      const encrypt = cipherB(this.#secret!, this.#skey!);
      // Step 4: ENCRYPT(VC, crypto_select, len(PadD) = 0).
      const reply = new Uint8Array(VC_LENGTH + 6);
      new DataView(reply.buffer).setUint32(VC_LENGTH, selected);
      encrypt.process(reply);
      send = send === undefined ? reply : Buffer.concat([send, reply]);
      this.#state = 'done';
      const rest = input.take(input.length);
      return {
        send,
        outcome: finish(method, this.#skey!, encrypt, this.#decrypt!, ia, rest),
      };
    }
    return { send };
  }
}

/** B's choice: RC4 when offered and allowed, else plaintext when allowed. */
export function selectMethod(allowed: number): (provide: number) => number | undefined {
  return (provide) => {
    const common = provide & allowed;
    if (common & CRYPTO_RC4) return CRYPTO_RC4;
    if (common & CRYPTO_PLAINTEXT) return CRYPTO_PLAINTEXT;
    return undefined;
  };
}
