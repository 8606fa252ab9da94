export { CipherState, MAX_NONCE } from './cipher-state';
export {
  DHLEN,
  dh,
  generateKeyPair,
  HASHLEN,
  type KeyPair,
  keyPairFromPrivateKey,
  MAX_MESSAGE_LENGTH,
  TAGLEN,
} from './crypto';
export { isNoiseError, NOISE_ERROR_CODES, NoiseError, type NoiseErrorCode } from './errors';
export { HandshakeState, type HandshakeStateOptions } from './handshake-state';
export {
  decodeIdentity,
  encodeIdentity,
  equalKeys,
  generateIdentity,
  IDENTITY_KEY_LENGTH,
  type Identity,
  identityFromSecretKey,
  publicKeyFromHex,
  publicKeyToHex,
  SIGNATURE_LENGTH,
  signWithIdentity,
  verifyIdentitySignature,
} from './identity';
export {
  HANDSHAKE_PATTERNS,
  type HandshakePattern,
  type HandshakePatternName,
  isOneWay,
  protocolName,
  type Token,
} from './patterns';
export {
  encodeIdentityPayload,
  PAYLOAD_LENGTH,
  PAYLOAD_VERSION,
  SIGNATURE_DOMAIN,
  verifyIdentityPayload,
} from './payload';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type SecureOptions,
  secureInbound,
  secureOutbound,
} from './secure';
export {
  type SecureDialOptions,
  type SecureNetwork,
  type SecureNetworkOptions,
  secureNetwork,
} from './secure-network';
export { MAX_PLAINTEXT, SecureStream } from './secure-stream';
export { SymmetricState } from './symmetric-state';
