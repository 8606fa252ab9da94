/**
 * The `HandshakeState` object (spec section 5.3): a `SymmetricState` plus the DH variables
 * `s`, `e`, `rs`, `re`, the role, and the remaining message patterns. Drive it with
 * `writeMessage` and `readMessage` in turn; after the last message `split()` gives the two
 * transport `CipherState`s (c1 for initiator→responder, c2 for responder→initiator).
 */
import type { CipherState } from './cipher-state';
import { DHLEN, dh, generateKeyPair, type KeyPair, MAX_MESSAGE_LENGTH, TAGLEN } from './crypto';
import { NoiseError } from './errors';
import {
  HANDSHAKE_PATTERNS,
  type HandshakePattern,
  type HandshakePatternName,
  protocolName,
  type Token,
} from './patterns';
import { SymmetricState } from './symmetric-state';

export interface HandshakeStateOptions {
  /** A pattern name (`'XX'`, `'NN'`, `'IK'`, ...) or a pattern object. */
  pattern: HandshakePatternName | HandshakePattern;
  initiator: boolean;
  /** Context both sides must agree on (section 6); default empty. */
  prologue?: Uint8Array;
  /** The local static key pair `s`, when the pattern sends or pre-shares one. */
  s?: KeyPair;
  /** The remote static public key `rs`, when the pattern pre-shares it (`<- s`). */
  rs?: Uint8Array;
  /**
   * GENERATE_KEYPAIR() for the `e` token. Defaults to a fresh X25519 key pair; tests inject
   * fixed keys here to reproduce the Noise test vectors.
   */
  generateKeyPair?: () => KeyPair;
}

const EMPTY = new Uint8Array(0);
const textEncoder = new TextEncoder();

export class HandshakeState {
  readonly pattern: HandshakePattern;
  readonly initiator: boolean;
  readonly #symmetric: SymmetricState;
  readonly #generateKeyPair: () => KeyPair;
  #s: KeyPair | undefined;
  #e: KeyPair | undefined;
  #rs: Uint8Array | undefined;
  #re: Uint8Array | undefined;
  /** Index of the next message pattern to process. */
  #next = 0;
  #failed = false;
  #split: [CipherState, CipherState] | undefined;

  /** Initialize(handshake_pattern, initiator, prologue, s, e, rs, re). */
  constructor(options: HandshakeStateOptions) {
    const p =
      typeof options.pattern === 'string' ? HANDSHAKE_PATTERNS[options.pattern] : options.pattern;
    if (p === undefined) throw new NoiseError('INVALID_STATE', 'unknown handshake pattern');
    this.pattern = p;
    this.initiator = options.initiator;
    this.#generateKeyPair = options.generateKeyPair ?? generateKeyPair;
    this.#symmetric = new SymmetricState(textEncoder.encode(protocolName(p)));
    this.#symmetric.mixHash(options.prologue ?? EMPTY);
    this.#s = options.s;
    this.#rs = options.rs;
    if (options.rs !== undefined && options.rs.length !== DHLEN) {
      throw new NoiseError('INVALID_KEY', `a remote static key is ${DHLEN} bytes`);
    }
    if (this.#needsLocalStatic() && this.#s === undefined) {
      throw new NoiseError('INVALID_STATE', `pattern ${p.name} needs a local static key pair`);
    }
    // Pre-messages: the initiator's keys are hashed first (5.3).
    for (const token of p.initiatorPreMessage) {
      this.#symmetric.mixHash(this.#preMessageKey(token, this.initiator));
    }
    for (const token of p.responderPreMessage) {
      this.#symmetric.mixHash(this.#preMessageKey(token, !this.initiator));
    }
  }

  #needsLocalStatic(): boolean {
    const mine = this.initiator
      ? this.pattern.initiatorPreMessage
      : this.pattern.responderPreMessage;
    if (mine.includes('s')) return true;
    return this.pattern.messages.some(
      (m, i) => (i % 2 === 0) === this.initiator && m.includes('s'),
    );
  }

  #preMessageKey(_token: 's', local: boolean): Uint8Array {
    const key = local ? this.#s?.publicKey : this.#rs;
    if (key === undefined) {
      throw new NoiseError('INVALID_STATE', `pattern ${this.pattern.name} pre-shares a static key`);
    }
    return key;
  }

  /** True when every message pattern has been processed and `split()` is available. */
  isFinished(): boolean {
    return this.#split !== undefined;
  }

  /** True when the next step is this side's `writeMessage` (false once finished or failed). */
  isMyTurn(): boolean {
    return (
      !this.#failed &&
      this.#next < this.pattern.messages.length &&
      (this.#next % 2 === 0) === this.initiator
    );
  }

  /** The remote static public key, once received (or pre-shared). */
  get remoteStaticKey(): Uint8Array | undefined {
    return this.#rs;
  }

  /** The remote ephemeral public key, once received. */
  get remoteEphemeralKey(): Uint8Array | undefined {
    return this.#re;
  }

  /** The local static key pair, if any. */
  get localStaticKey(): KeyPair | undefined {
    return this.#s;
  }

  /** GetHandshakeHash(): `h`, for channel binding; final once the handshake is finished. */
  getHandshakeHash(): Uint8Array {
    return this.#symmetric.getHandshakeHash();
  }

  /** The two CipherStates of Split(): c1 (initiator→responder), c2 (responder→initiator). */
  split(): [CipherState, CipherState] {
    if (this.#split === undefined) {
      throw new NoiseError('INVALID_STATE', 'the handshake is not finished');
    }
    return this.#split;
  }

  #take(expectWrite: boolean): readonly Token[] {
    if (this.#failed) throw new NoiseError('INVALID_STATE', 'the handshake has failed');
    const tokens = this.pattern.messages[this.#next];
    if (tokens === undefined) throw new NoiseError('INVALID_STATE', 'the handshake is finished');
    if (((this.#next % 2 === 0) === this.initiator) !== expectWrite) {
      throw new NoiseError(
        'INVALID_STATE',
        expectWrite ? "it is the peer's turn to send" : "it is this side's turn to send",
      );
    }
    return tokens;
  }

  /** The size of the next written message for a payload of `payloadLength` bytes. */
  #writtenLength(tokens: readonly Token[], payloadLength: number): number {
    let hasKey = this.#symmetric.cipherState.hasKey();
    let length = 0;
    for (const token of tokens) {
      if (token === 'e') length += DHLEN;
      else if (token === 's') length += DHLEN + (hasKey ? TAGLEN : 0);
      else hasKey = true;
    }
    return length + payloadLength + (hasKey ? TAGLEN : 0);
  }

  /** The DH of a token, from this side's point of view (5.3). */
  #dhToken(token: 'ee' | 'es' | 'se' | 'ss'): Uint8Array {
    const missing = (): never => {
      throw new NoiseError('INVALID_STATE', `token ${token} lacks a key`);
    };
    // `es`: initiator's e with responder's s; `se`: initiator's s with responder's e.
    const useLocalEphemeral =
      token === 'ee' || (token === 'es' && this.initiator) || (token === 'se' && !this.initiator);
    const useRemoteEphemeral =
      token === 'ee' || (token === 'es' && !this.initiator) || (token === 'se' && this.initiator);
    const local = useLocalEphemeral ? this.#e : this.#s;
    const remote = useRemoteEphemeral ? this.#re : this.#rs;
    if (local === undefined || remote === undefined) return missing();
    return dh(local, remote);
  }

  /**
   * WriteMessage(payload): returns the handshake message. A payload that would make the
   * message longer than 65,535 bytes throws `MESSAGE_TOO_LARGE` and leaves the state as it was.
   */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    const tokens = this.#take(true);
    const length = this.#writtenLength(tokens, payload.length);
    if (length > MAX_MESSAGE_LENGTH) {
      throw new NoiseError('MESSAGE_TOO_LARGE', `handshake message of ${length} bytes > 65535`);
    }
    try {
      const message = new Uint8Array(length);
      let offset = 0;
      for (const token of tokens) {
        if (token === 'e') {
          if (this.#e !== undefined) throw new NoiseError('INVALID_STATE', 'e is already set');
          const e = this.#generateKeyPair();
          this.#e = e;
          message.set(e.publicKey, offset);
          offset += DHLEN;
          this.#symmetric.mixHash(e.publicKey);
        } else if (token === 's') {
          const s = this.#s;
          if (s === undefined) throw new NoiseError('INVALID_STATE', 'no local static key');
          const c = this.#symmetric.encryptAndHash(s.publicKey);
          message.set(c, offset);
          offset += c.length;
        } else {
          this.#symmetric.mixKey(this.#dhToken(token));
        }
      }
      message.set(this.#symmetric.encryptAndHash(payload), offset);
      this.#finishMessage();
      return message;
    } catch (e) {
      this.#failed = true;
      throw e;
    }
  }

  /**
   * ReadMessage(message): returns the decrypted payload. Any failure (short message, bad key,
   * failed authentication) throws a `NoiseError` and the handshake is dead from then on.
   */
  readMessage(message: Uint8Array): Uint8Array {
    const tokens = this.#take(false);
    try {
      if (message.length > MAX_MESSAGE_LENGTH) {
        throw new NoiseError('MESSAGE_TOO_LARGE', `handshake message of ${message.length} bytes`);
      }
      let offset = 0;
      const next = (n: number): Uint8Array => {
        if (offset + n > message.length) {
          throw new NoiseError('BAD_MESSAGE', 'handshake message too short for its pattern');
        }
        const part = message.subarray(offset, offset + n);
        offset += n;
        return part;
      };
      for (const token of tokens) {
        if (token === 'e') {
          if (this.#re !== undefined) throw new NoiseError('INVALID_STATE', 're is already set');
          const re = new Uint8Array(next(DHLEN));
          this.#re = re;
          this.#symmetric.mixHash(re);
        } else if (token === 's') {
          if (this.#rs !== undefined) throw new NoiseError('INVALID_STATE', 'rs is already set');
          const temp = next(DHLEN + (this.#symmetric.cipherState.hasKey() ? TAGLEN : 0));
          this.#rs = new Uint8Array(this.#symmetric.decryptAndHash(temp));
        } else {
          this.#symmetric.mixKey(this.#dhToken(token));
        }
      }
      const rest = message.subarray(offset);
      if (this.#symmetric.cipherState.hasKey() && rest.length < TAGLEN) {
        throw new NoiseError('BAD_MESSAGE', 'handshake message too short for its payload tag');
      }
      const payload = new Uint8Array(this.#symmetric.decryptAndHash(rest));
      this.#finishMessage();
      return payload;
    } catch (e) {
      this.#failed = true;
      throw e;
    }
  }

  #finishMessage(): void {
    this.#next++;
    if (this.#next === this.pattern.messages.length) this.#split = this.#symmetric.split();
  }
}
