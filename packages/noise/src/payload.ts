/**
 * The identity payload of peerkit's secure channel: the handshake payload of XX messages 2
 * (responder) and 3 (initiator). Its own fixed binary layout, 97 bytes:
 *
 *   offset  size  field
 *   0       1     version, 0x01
 *   1       32    Ed25519 identity public key
 *   33      64    Ed25519 signature over "peerkit-noise-static-key:" || Noise static public key
 *
 * The receiver checks the signature against the static key the same message delivered (`rs`),
 * which Noise proved the sender holds: together they prove the identity key's owner speaks.
 */
import { DHLEN } from './crypto';
import { NoiseError } from './errors';
import {
  equalKeys,
  IDENTITY_KEY_LENGTH,
  type Identity,
  SIGNATURE_LENGTH,
  signWithIdentity,
  verifyIdentitySignature,
} from './identity';

export const PAYLOAD_VERSION = 0x01;
export const PAYLOAD_LENGTH = 1 + IDENTITY_KEY_LENGTH + SIGNATURE_LENGTH;
/** Domain separation for the signature (cf. noise-libp2p's `noise-libp2p-static-key:`). */
export const SIGNATURE_DOMAIN = 'peerkit-noise-static-key:';

const domain = new TextEncoder().encode(SIGNATURE_DOMAIN);

function signedMessage(staticPublicKey: Uint8Array): Uint8Array {
  const message = new Uint8Array(domain.length + DHLEN);
  message.set(domain, 0);
  message.set(staticPublicKey, domain.length);
  return message;
}

/** Builds this side's identity payload for its Noise static public key. */
export function encodeIdentityPayload(identity: Identity, staticPublicKey: Uint8Array): Uint8Array {
  const payload = new Uint8Array(PAYLOAD_LENGTH);
  payload[0] = PAYLOAD_VERSION;
  payload.set(identity.publicKey, 1);
  payload.set(signWithIdentity(identity, signedMessage(staticPublicKey)), 1 + IDENTITY_KEY_LENGTH);
  return payload;
}

/**
 * Decodes and verifies a remote identity payload against the remote static key `rs`; returns
 * the remote identity public key. Throws `BAD_MESSAGE` for a malformed payload, `BAD_SIGNATURE`
 * when the signature does not verify, `IDENTITY_MISMATCH` when `expected` is given and differs.
 */
export function verifyIdentityPayload(
  payload: Uint8Array,
  remoteStaticKey: Uint8Array,
  expected?: Uint8Array,
): Uint8Array {
  if (payload.length !== PAYLOAD_LENGTH || payload[0] !== PAYLOAD_VERSION) {
    throw new NoiseError('BAD_MESSAGE', `identity payload must be ${PAYLOAD_LENGTH} bytes, v1`);
  }
  const identityKey = payload.slice(1, 1 + IDENTITY_KEY_LENGTH);
  const signature = payload.subarray(1 + IDENTITY_KEY_LENGTH);
  if (!verifyIdentitySignature(identityKey, signedMessage(remoteStaticKey), signature)) {
    throw new NoiseError('BAD_SIGNATURE', 'identity signature over the static key is invalid');
  }
  if (expected !== undefined && !equalKeys(identityKey, expected)) {
    throw new NoiseError('IDENTITY_MISMATCH', 'the remote peer is not the expected identity');
  }
  return identityKey;
}
