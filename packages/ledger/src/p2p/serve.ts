/**
 * Answers to peers' requests (getdata, getheaders, getblocktxn, mempool) and addr gossip: what
 * a node serves from its chain and mempool. The message loop is in handlers.ts.
 */
import { toHex } from '../hash';
import type { LedgerNode } from '../node';
import { type Transaction, txid } from '../primitives/transaction';
import { buildCompactBlock } from './compact-block';
import {
  MAX_HEADERS_RESULTS,
  MAX_INV_SZ,
  MSG_BLOCK,
  MSG_CMPCT_BLOCK,
  MSG_TX,
  MSG_WITNESS_FLAG,
  MSG_WTX,
} from './constants';
import type { InvVector, MessageOf } from './messages/types';
import type { Peer } from './peer';

/** Core serves compact blocks only for blocks this close to the tip (MAX_CMPCTBLOCK_DEPTH). */
const MAX_CMPCTBLOCK_DEPTH = 5;

/** getdata (developer reference, "getdata", "notfound"; BIP 144 witness flag; BIP 152 MSG_CMPCT_BLOCK). */
export async function serveGetData(
  node: LedgerNode,
  peer: Peer,
  inventory: InvVector[],
): Promise<void> {
  const notFound: InvVector[] = [];
  for (const v of inventory) {
    const witness = (v.type & MSG_WITNESS_FLAG) !== 0;
    const type = v.type & ~MSG_WITNESS_FLAG;
    if (type === MSG_TX || type === MSG_WTX) {
      const tx = node.mempool.get(v.hash);
      if (tx) peer.send({ command: 'tx', tx, witness });
      else notFound.push(v);
    } else if (type === MSG_BLOCK || type === MSG_CMPCT_BLOCK) {
      const block = await node.chain.getBlock(v.hash);
      const entry = node.chain.getEntry(v.hash);
      if (!block || !entry) {
        notFound.push(v);
        continue;
      }
      const compactVersion = peer.info?.compactVersion ?? 0n;
      if (
        type === MSG_CMPCT_BLOCK &&
        compactVersion > 0n &&
        node.chain.tip.height - entry.height < MAX_CMPCTBLOCK_DEPTH
      ) {
        const nonce = new DataView(node.network.random.bytes(8).buffer).getBigUint64(0, true);
        peer.send({
          command: 'cmpctblock',
          compact: buildCompactBlock(block, nonce, compactVersion),
          witness: compactVersion === 2n,
        });
      } else {
        peer.send({
          command: 'block',
          block,
          witness: witness || (type === MSG_CMPCT_BLOCK && compactVersion === 2n),
        });
      }
    } else {
      notFound.push(v);
    }
  }
  if (notFound.length > 0) peer.send({ command: 'notfound', inventory: notFound });
}

/** getheaders (developer reference, "getheaders": locator, stop hash, at most 2,000). */
export function serveGetHeaders(
  node: LedgerNode,
  peer: Peer,
  m: { locator: Uint8Array[]; stop: Uint8Array },
): void {
  const chain = node.chain;
  let headers: MessageOf<'headers'>['headers'];
  if (m.locator.length === 0) {
    // Developer reference, "getheaders": an empty locator asks for the header of hash_stop.
    const entry = chain.getEntry(m.stop);
    headers = entry ? [entry.header] : [];
  } else {
    headers = chain.headersAfter(m.locator, m.stop, MAX_HEADERS_RESULTS);
  }
  peer.send({ command: 'headers', headers });
}

/** addr: into the bounded address book; small fresh messages go on to two peers. */
export function onAddr(node: LedgerNode, peer: Peer, m: MessageOf<'addr'>): void {
  const fresh = node.addresses.add(m.addresses);
  // Core relays small, fresh addr messages on to two peers (RelayAddress); bounded gossip.
  if (m.addresses.length > 10 || fresh.length === 0) return;
  const others = node.readyPeers().filter((p) => p.id !== peer.id);
  for (let i = 0; i < 2 && others.length > 0; i++) {
    const [target] = others.splice(node.network.random.int(others.length), 1);
    target?.send({ command: 'addr', addresses: fresh });
  }
}

/** mempool (BIP 35). */
export function serveMempool(node: LedgerNode, peer: Peer): void {
  // BIP 35: answer with an inv of the mempool, honouring the peer's feefilter (BIP 133).
  const filter = peer.info?.feeFilter ?? 0n;
  const inventory: InvVector[] = [];
  for (const tx of node.mempool.transactions()) {
    const id = txid(tx);
    if (node.mempool.feeRate(id) < filter) continue;
    node.relay.markKnown(peer.id, toHex(id));
    inventory.push({ type: MSG_TX, hash: id });
  }
  for (let i = 0; i < inventory.length; i += MAX_INV_SZ) {
    peer.send({ command: 'inv', inventory: inventory.slice(i, i + MAX_INV_SZ) });
  }
}

/** getblocktxn (BIP 152): the requested transactions of a block we have. */
export async function serveGetBlockTxn(
  node: LedgerNode,
  peer: Peer,
  m: MessageOf<'getblocktxn'>,
): Promise<void> {
  const block = await node.chain.getBlock(m.request.blockHash);
  if (!block) return;
  const transactions: Transaction[] = [];
  for (const i of m.request.indexes) {
    const tx = block.transactions[i];
    if (!tx) {
      // BIP 152: an index out of range is a protocol violation.
      peer.misbehave(100, 'getblocktxn index out of range');
      return;
    }
    transactions.push(tx);
  }
  const witness = peer.info?.compactVersion === 2n;
  peer.send({
    command: 'blocktxn',
    response: { blockHash: m.request.blockHash, transactions },
    witness,
  });
}
