/**
 * Payload codecs of every message (developer reference, "P2P Network: Protocol Messages").
 * `decodePayload` is total: it returns the message, `undefined` for a command peerkit does not
 * know (Core ignores unknown messages), or throws `LedgerError` (`DECODE` for malformed bytes,
 * `LIMIT` for a count above Bitcoin Core's limit).
 */
import { Reader } from '../../encoding/reader';
import { Writer } from '../../encoding/writer';
import { LedgerError } from '../../errors';
import { readBlock, readBlockHeader, writeBlock, writeBlockHeader } from '../../primitives/block';
import { hasWitness, readTransaction, writeTransaction } from '../../primitives/transaction';
import {
  MAX_ADDR_TO_SEND,
  MAX_HEADERS_RESULTS,
  MAX_INV_SZ,
  MAX_LOCATOR_SZ,
  MAX_SUBVERSION_LENGTH,
} from '../constants';
import {
  readBlockTxn,
  readBlockTxnRequest,
  readCompactBlock,
  writeBlockTxn,
  writeBlockTxnRequest,
  writeCompactBlock,
} from './compact-codec';
import {
  readNetAddress,
  readTimedNetAddress,
  writeNetAddress,
  writeTimedNetAddress,
} from './net-address';
import type { Command, InvVector, Message, VersionMessage } from './types';

const EMPTY_COMMANDS = new Set<string>([
  'verack',
  'sendheaders',
  'getaddr',
  'mempool',
  'wtxidrelay',
  'sendaddrv2',
]);

/** Every command `decodePayload` understands. */
export const KNOWN_COMMANDS: ReadonlySet<string> = new Set<Command>([
  'version',
  'verack',
  'sendheaders',
  'getaddr',
  'mempool',
  'wtxidrelay',
  'sendaddrv2',
  'ping',
  'pong',
  'addr',
  'inv',
  'getdata',
  'notfound',
  'getheaders',
  'getblocks',
  'headers',
  'block',
  'tx',
  'feefilter',
  'sendcmpct',
  'cmpctblock',
  'getblocktxn',
  'blocktxn',
]);

function limit(what: string, n: number, max: number): number {
  if (n > max) throw new LedgerError('LIMIT', `${what}: ${n} entries above the limit of ${max}`);
  return n;
}

/** A count read as CompactSize, checked against Core's limit (LIMIT) and the bytes present (DECODE). */
function readCount(r: Reader, what: string, max: number, minEntrySize: number): number {
  const n = r.compactSize();
  limit(what, n, max);
  if (n * minEntrySize > r.remaining)
    throw new LedgerError('DECODE', `${what}: ${n} entries but ${r.remaining} bytes`);
  return n;
}

function readInventory(r: Reader, what: string): InvVector[] {
  const n = readCount(r, what, MAX_INV_SZ, 36);
  const out: InvVector[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { type: r.u32le(), hash: r.hash().slice() };
  return out;
}

function readVersion(r: Reader): VersionMessage {
  const version = r.i32le();
  const services = r.u64le();
  const timestamp = r.i64le();
  const receiver = readNetAddress(r);
  const sender = readNetAddress(r);
  const nonce = r.u64le();
  const userAgent = r.varString(MAX_SUBVERSION_LENGTH);
  const startHeight = r.i32le();
  // BIP 37: the relay flag is optional; absent means true.
  const relay = r.remaining > 0 ? r.u8() !== 0 : true;
  return {
    command: 'version',
    version,
    services,
    timestamp,
    receiver,
    sender,
    nonce,
    userAgent,
    startHeight,
    relay,
  };
}

/** Decodes the payload of `command`; `undefined` for an unknown command. */
export function decodePayload(command: string, payload: Uint8Array): Message | undefined {
  const r = new Reader(payload);
  let m: Message;
  if (EMPTY_COMMANDS.has(command)) {
    m = { command: command as 'verack' };
  } else {
    switch (command) {
      case 'version':
        // Core reads the fields it knows and ignores what follows (later versions may add fields).
        return readVersion(r);
      case 'ping':
      case 'pong':
        m = { command, nonce: r.u64le() };
        break;
      case 'addr': {
        const n = readCount(r, 'addr', MAX_ADDR_TO_SEND, 30);
        const addresses = [];
        for (let i = 0; i < n; i++) addresses.push(readTimedNetAddress(r));
        m = { command, addresses };
        break;
      }
      case 'inv':
      case 'getdata':
      case 'notfound':
        m = { command, inventory: readInventory(r, command) };
        break;
      case 'getheaders':
      case 'getblocks': {
        const version = r.u32le();
        const n = readCount(r, `${command} locator`, MAX_LOCATOR_SZ, 32);
        const locator = [];
        for (let i = 0; i < n; i++) locator.push(r.hash().slice());
        m = { command, version, locator, stop: r.hash().slice() };
        break;
      }
      case 'headers': {
        const n = readCount(r, 'headers', MAX_HEADERS_RESULTS, 81);
        const headers = [];
        for (let i = 0; i < n; i++) {
          headers.push(readBlockHeader(r));
          // "transaction count (always zero)"; Core reads and ignores it.
          r.compactSize();
        }
        m = { command, headers };
        break;
      }
      case 'block': {
        const block = readBlock(r);
        m = { command, block, witness: block.transactions.some(hasWitness) };
        break;
      }
      case 'tx': {
        const tx = readTransaction(r);
        m = { command, tx, witness: hasWitness(tx) };
        break;
      }
      case 'feefilter':
        m = { command, feeRate: r.i64le() };
        break;
      case 'sendcmpct':
        m = { command, announce: r.u8() !== 0, version: r.u64le() };
        break;
      case 'cmpctblock': {
        const compact = readCompactBlock(r);
        m = { command, compact, witness: compact.prefilled.some((p) => hasWitness(p.tx)) };
        break;
      }
      case 'getblocktxn':
        m = { command, request: readBlockTxnRequest(r) };
        break;
      case 'blocktxn': {
        const response = readBlockTxn(r);
        m = { command, response, witness: response.transactions.some(hasWitness) };
        break;
      }
      default:
        return undefined;
    }
  }
  r.end();
  return m;
}

/** Encodes the payload of `m` (without the envelope). Throws LIMIT past Core's limits. */
export function encodePayload(m: Message): Uint8Array {
  const w = new Writer(64);
  switch (m.command) {
    case 'verack':
    case 'sendheaders':
    case 'getaddr':
    case 'mempool':
    case 'wtxidrelay':
    case 'sendaddrv2':
      break;
    case 'version':
      w.i32le(m.version).u64le(m.services).i64le(m.timestamp);
      writeNetAddress(w, m.receiver);
      writeNetAddress(w, m.sender);
      w.u64le(m.nonce);
      if (Buffer.byteLength(m.userAgent) > MAX_SUBVERSION_LENGTH)
        throw new LedgerError('LIMIT', 'user agent too long');
      w.varString(m.userAgent);
      w.i32le(m.startHeight).u8(m.relay ? 1 : 0);
      break;
    case 'ping':
    case 'pong':
      w.u64le(m.nonce);
      break;
    case 'addr':
      w.compactSize(limit('addr', m.addresses.length, MAX_ADDR_TO_SEND));
      for (const a of m.addresses) writeTimedNetAddress(w, a);
      break;
    case 'inv':
    case 'getdata':
    case 'notfound':
      w.compactSize(limit(m.command, m.inventory.length, MAX_INV_SZ));
      for (const v of m.inventory) w.u32le(v.type).bytes(v.hash);
      break;
    case 'getheaders':
    case 'getblocks':
      w.u32le(m.version).compactSize(limit('locator', m.locator.length, MAX_LOCATOR_SZ));
      for (const h of m.locator) w.bytes(h);
      w.bytes(m.stop);
      break;
    case 'headers':
      w.compactSize(limit('headers', m.headers.length, MAX_HEADERS_RESULTS));
      for (const h of m.headers) {
        writeBlockHeader(w, h);
        w.compactSize(0);
      }
      break;
    case 'block':
      writeBlock(w, m.block, { witness: m.witness });
      break;
    case 'tx':
      writeTransaction(w, m.tx, { witness: m.witness });
      break;
    case 'feefilter':
      w.i64le(m.feeRate);
      break;
    case 'sendcmpct':
      w.u8(m.announce ? 1 : 0).u64le(m.version);
      break;
    case 'cmpctblock':
      writeCompactBlock(w, m.compact, m.witness);
      break;
    case 'getblocktxn':
      writeBlockTxnRequest(w, m.request);
      break;
    case 'blocktxn':
      writeBlockTxn(w, m.response, m.witness);
      break;
  }
  return w.finish();
}
