/**
 * Addresses (developer reference, transactions.rst "Address Conversion"): a P2PKH address is
 * Base58Check of the version byte (111 on regtest: addresses start with m or n) and the
 * 20-byte hash160 of the public key. WIF private keys: version 239 on regtest, the 32-byte
 * key and 0x01 for a compressed public key.
 */
import { base58checkDecode, base58checkEncode } from '../crypto/base58';
import { PrivateKey } from '../crypto/ecdsa';
import { LedgerError } from '../errors';
import { hash160 } from '../hash';
import { type ChainParams, REGTEST } from '../params';
import { classifyScript, p2pkhScript } from '../script/script';

/** The P2PKH address of a public key. */
export function publicKeyToAddress(publicKey: Uint8Array, params: ChainParams = REGTEST): string {
  return base58checkEncode(params.pubkeyHashPrefix, hash160(publicKey));
}

/** The output script an address stands for (P2PKH only); throws LedgerError('WALLET'). */
export function addressToScript(address: string, params: ChainParams = REGTEST): Uint8Array {
  let decoded: { version: number; payload: Uint8Array };
  try {
    decoded = base58checkDecode(address);
  } catch (e) {
    throw new LedgerError('WALLET', `not a valid address: ${address.slice(0, 80)}`, { cause: e });
  }
  if (decoded.version !== params.pubkeyHashPrefix || decoded.payload.length !== 20) {
    throw new LedgerError('WALLET', `not a ${params.name} P2PKH address: ${address.slice(0, 80)}`);
  }
  return p2pkhScript(decoded.payload);
}

/** The address of a P2PKH output script, or undefined for any other script. */
export function scriptToAddress(
  script: Uint8Array,
  params: ChainParams = REGTEST,
): string | undefined {
  const t = classifyScript(script);
  return t.type === 'p2pkh' ? base58checkEncode(params.pubkeyHashPrefix, t.pubkeyHash) : undefined;
}

/** WIF of a key with a compressed public key. */
export function encodeWif(key: PrivateKey, params: ChainParams = REGTEST): string {
  return base58checkEncode(params.secretKeyPrefix, new Uint8Array([...key.bytes, 0x01]));
}

/** Decodes WIF (compressed-key form only); throws LedgerError('WALLET'). */
export function decodeWif(wif: string, params: ChainParams = REGTEST): PrivateKey {
  let decoded: { version: number; payload: Uint8Array };
  try {
    decoded = base58checkDecode(wif);
  } catch (e) {
    throw new LedgerError('WALLET', 'not a valid WIF key', { cause: e });
  }
  if (
    decoded.version !== params.secretKeyPrefix ||
    decoded.payload.length !== 33 ||
    decoded.payload[32] !== 1
  ) {
    throw new LedgerError('WALLET', `not a ${params.name} WIF key with a compressed public key`);
  }
  return PrivateKey.fromBytes(decoded.payload.subarray(0, 32));
}
