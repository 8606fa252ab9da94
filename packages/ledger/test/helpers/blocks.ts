/** Building regtest blocks on any parent, for chain tests (no Chain needed). */
import { checkProofOfWork } from '../../src/consensus/pow';
import {
  type Block,
  blockHash,
  merkleRoot,
  REGTEST,
  type Transaction,
  txid,
} from '../../src/index';
import { pushData, pushNumber } from '../../src/script/script';

export const OP_TRUE = new Uint8Array([0x51]);

export interface ParentInfo {
  hash: Uint8Array;
  height: number;
  time: number;
}

/** A coinbase for `height` paying `value` to `script` (BIP 34 height, tag to make it unique). */
export function coinbaseTx(
  height: number,
  value: bigint,
  script: Uint8Array = OP_TRUE,
  tag = 0,
): Transaction {
  const t = new Uint8Array(4);
  new DataView(t.buffer).setUint32(0, tag, true);
  return {
    version: 1,
    inputs: [
      {
        prevout: { txid: new Uint8Array(32), index: 0xffffffff },
        scriptSig: new Uint8Array([...pushNumber(height), ...pushData(t)]),
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    outputs: [{ value, scriptPubKey: script }],
    lockTime: 0,
  };
}

/** A solved block on `parent` (time = parent time + 1, so always past the median). */
export function buildBlock(parent: ParentInfo, transactions: Transaction[]): Block {
  const header = {
    version: 0x20000000,
    prevBlock: parent.hash,
    merkleRoot: merkleRoot(transactions.map(txid)).root,
    time: parent.time + 1,
    bits: REGTEST.powLimitBits,
    nonce: 0,
  };
  while (!checkProofOfWork(blockHash(header), header.bits, REGTEST.powLimit)) header.nonce++;
  return { header, transactions };
}

export const GENESIS: ParentInfo = {
  hash: REGTEST.genesisHash,
  height: 0,
  time: REGTEST.genesis.header.time,
};
