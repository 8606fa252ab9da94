/**
 * The UTXO set: every spendable transaction output, keyed by outpoint, with the height of
 * the block that created it and whether it came from a coinbase (for maturity).
 */
import { toHex } from '../hash';
import type { OutPoint, TxOut } from '../primitives/transaction';

export interface Coin {
  output: TxOut;
  height: number;
  coinbase: boolean;
}

/** The map key of an outpoint: txid hex (internal order) and index. */
export function outpointKey(prevout: OutPoint): string {
  return `${toHex(prevout.txid)}:${prevout.index}`;
}

/** The inverse of outpointKey. */
export function outpointFromKey(key: string): OutPoint {
  const [hex, index] = key.split(':') as [string, string];
  return { txid: new Uint8Array(Buffer.from(hex, 'hex')), index: Number(index) };
}

/**
 * Outputs that can never be spent are not added to the UTXO set (Core's IsUnspendable): a
 * script starting with OP_RETURN, or longer than MAX_SCRIPT_SIZE.
 */
export function isUnspendable(scriptPubKey: Uint8Array): boolean {
  return (scriptPubKey.length > 0 && scriptPubKey[0] === 0x6a) || scriptPubKey.length > 10_000;
}

/** Read access to coins: the UTXO set itself, or an overlay on it. */
export interface CoinView {
  getCoin(key: string): Coin | undefined;
}
