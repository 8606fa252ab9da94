/**
 * The Noise test vectors of three independent implementations (cacophony, snow, noise-c) for
 * every pattern implemented here with 25519/ChaChaPoly/SHA256: handshake messages, transport
 * messages and the handshake hash must match byte for byte, given the vectors' fixed keys.
 */
import { describe, expect, it } from 'vitest';
import { type CipherState, HandshakeState, keyPairFromPrivateKey } from '../src/index';
import { HANDSHAKE_PATTERNS, type HandshakePatternName, isOneWay } from '../src/patterns';
import { loadVectors, type NoiseVector } from './helpers/vectors';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const NAME = /^Noise_([A-Z]+)_25519_ChaChaPoly_SHA256$/;
function patternOf(protocolName: string): HandshakePatternName | undefined {
  const m = NAME.exec(protocolName);
  return m?.[1] !== undefined && m[1] in HANDSHAKE_PATTERNS
    ? (m[1] as HandshakePatternName)
    : undefined;
}
const accept = (name: string) => patternOf(name) !== undefined;

function side(v: NoiseVector, initiator: boolean): HandshakeState {
  const prologue = initiator ? v.initPrologue : v.respPrologue;
  const s = initiator ? v.initStatic : v.respStatic;
  const rs = initiator ? v.initRemoteStatic : v.respRemoteStatic;
  const ephemeral = initiator ? v.initEphemeral : v.respEphemeral;
  return new HandshakeState({
    pattern: patternOf(v.protocolName)!,
    initiator,
    prologue: hex(prologue),
    s: s ? keyPairFromPrivateKey(hex(s)) : undefined,
    rs: rs ? hex(rs) : undefined,
    generateKeyPair: () => keyPairFromPrivateKey(hex(ephemeral)),
  });
}

function runVector(v: NoiseVector): number {
  const init = side(v, true);
  const resp = side(v, false);
  const pattern = init.pattern;
  const handshakeLength = pattern.messages.length;
  let checked = 0;
  let transport: { c1i: CipherState; c2i: CipherState; c1r: CipherState; c2r: CipherState };
  v.messages.forEach((m, i) => {
    const payload = hex(m.payload);
    const fromInitiator = isOneWay(pattern) || i % 2 === 0;
    if (i < handshakeLength) {
      const [sender, receiver] = fromInitiator ? [init, resp] : [resp, init];
      const message = sender.writeMessage(payload);
      expect(toHex(message), `handshake message ${i}`).toBe(m.ciphertext);
      expect(toHex(receiver.readMessage(message))).toBe(m.payload);
      if (i === handshakeLength - 1) {
        expect(init.isFinished() && resp.isFinished()).toBe(true);
        expect(toHex(init.getHandshakeHash())).toBe(toHex(resp.getHandshakeHash()));
        if (v.handshakeHash) expect(toHex(init.getHandshakeHash())).toBe(v.handshakeHash);
        const [c1i, c2i] = init.split();
        const [c1r, c2r] = resp.split();
        transport = { c1i, c2i, c1r, c2r };
      }
    } else {
      const [enc, dec] = fromInitiator
        ? [transport.c1i, transport.c1r]
        : [transport.c2r, transport.c2i];
      const ciphertext = enc.encryptWithAd(new Uint8Array(0), payload);
      expect(toHex(ciphertext), `transport message ${i}`).toBe(m.ciphertext);
      expect(toHex(dec.decryptWithAd(new Uint8Array(0), ciphertext))).toBe(m.payload);
    }
    checked++;
  });
  return checked;
}

describe('Noise test vectors', () => {
  const small = loadVectors('noise_nn_xx_25519_chachapoly_sha256_blake2s.json', accept);
  it('the collector file holds XX and NN from all three sources', () => {
    expect(small.map((v) => `${v.protocolName}/${v.source}`).sort()).toEqual([
      'Noise_NN_25519_ChaChaPoly_SHA256/cacophony',
      'Noise_NN_25519_ChaChaPoly_SHA256/noise-c',
      'Noise_NN_25519_ChaChaPoly_SHA256/snow',
      'Noise_XX_25519_ChaChaPoly_SHA256/cacophony',
      'Noise_XX_25519_ChaChaPoly_SHA256/noise-c',
      'Noise_XX_25519_ChaChaPoly_SHA256/snow',
    ]);
  });
  for (const v of small) {
    it(`${v.protocolName} (${v.source}) byte for byte`, () => {
      expect(runVector(v)).toBe(v.messages.length);
    });
  }

  for (const file of ['cacophony.txt', 'snow.txt', 'noise-c-basic.txt']) {
    const vectors = loadVectors(file, accept);
    it(`${file}: every implemented pattern (${vectors.length} vectors) byte for byte`, () => {
      const patterns = new Set(vectors.map((v) => patternOf(v.protocolName)));
      expect([...patterns].sort()).toEqual(Object.keys(HANDSHAKE_PATTERNS).sort());
      for (const v of vectors) expect(runVector(v)).toBe(v.messages.length);
    });
  }
});
