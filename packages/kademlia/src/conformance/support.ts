/** Helpers the DHT rules share: arbitraries, reply checks and byte formatting. */
import { ensure, RuleViolation } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { type Contact, decodeCompactNodes } from '../compact';
import type { KrpcMessage, KrpcQuery, KrpcResponse, QueryArguments } from '../krpc';
import { compareDistance, type NodeId, toHex } from '../node-id';
import type { DhtContext } from './context';
import type { KrpcReply } from './probe';

export const BEP5 = 'BEP 5';

/** BEP 5, "Errors": the error for malformed packets, invalid arguments and bad tokens. */
export const ERRORS_TEXT =
  '203 Protocol Error, such as a malformed packet, invalid arguments, or bad token';

/** 20-byte node ids, info-hashes and targets. */
export const arbId = (): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: 20, maxLength: 20 });

/** Transaction ids: BEP 5 says "typically 2 characters"; any short string must be echoed. */
export const arbTransactionId = (): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: 1, maxLength: 8 });

/** Hex of bytes, for rule reports (the package's one hex helper). */
export const hex = toHex;

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The reply as text for a violation message. */
export function describeReply(reply: KrpcReply): string {
  const m = reply.message;
  if (m === undefined)
    return `undecodable datagram (${reply.decodeError}): ${hex(reply.raw.subarray(0, 64))}`;
  if (m.y === 'e') return `error ${m.e.code} "${m.e.message}" (t=${hex(m.t)})`;
  if (m.y === 'r') return `response (t=${hex(m.t)}, keys ${Object.keys(m.r).join(',')})`;
  return `query ${m.q}`;
}

/** The reply must be a KRPC response (`y` = `r`); returns it. */
export function expectResponse(reply: KrpcReply | undefined, what: string): KrpcResponse {
  ensure(reply !== undefined, `no answer to ${what}`);
  const m = reply.message;
  if (m === undefined || m.y !== 'r') {
    throw new RuleViolation(`expected a response to ${what}, got ${describeReply(reply)}`);
  }
  return m;
}

/** The reply must be a KRPC error with `code`. */
export function expectError(reply: KrpcReply | undefined, code: number, what: string): void {
  ensure(reply !== undefined, `no answer to ${what} (expected error ${code})`);
  const m: KrpcMessage | undefined = reply.message;
  ensure(
    m?.y === 'e' && m.e.code === code,
    `expected error ${code} for ${what}, got ${describeReply(reply)}`,
  );
}

/**
 * The key carrying nodes of the target's family and the length of one node in it: "nodes",
 * 26 bytes (BEP 5, "Contact Encoding"), or over IPv6 "nodes6", 38 bytes (BEP 32).
 */
export function nodesKey(ctx: DhtContext): { key: 'nodes' | 'nodes6'; size: number } {
  return ctx.family === 4 ? { key: 'nodes', size: 26 } : { key: 'nodes6', size: 38 };
}

/** The length of one peer in "values": 6 bytes over IPv4 (BEP 5), 18 over IPv6 (BEP 32). */
export function peerSize(ctx: DhtContext): number {
  return ctx.family === 4 ? 6 : 18;
}

/** Decodes the compact node info of the target's family (see `nodesKey`). */
export function compactNodes(ctx: DhtContext, r: KrpcResponse, what: string): Contact[] {
  const { key, size } = nodesKey(ctx);
  const nodes = r.r[key];
  ensure(nodes !== undefined, `${what}: no "${key}" key`);
  ensure(
    nodes.length % size === 0,
    `${what}: "${key}" is ${nodes.length} bytes, not a multiple of ${size}`,
  );
  return decodeCompactNodes(nodes, ctx.family);
}

/** Nodes of `set` sorted by XOR distance to `target`, nearest first. */
export function byDistance(target: NodeId, set: readonly Contact[]): Contact[] {
  return [...set].sort((a, b) => compareDistance(target, a.id, b.id));
}

/** A query with a fresh transaction id from the context's probe. */
export function query(
  ctx: DhtContext,
  q: string,
  a: Partial<QueryArguments> = {},
  t: Uint8Array = ctx.network.random.bytes(2),
): KrpcQuery {
  return { t, y: 'q', q, a: { id: ctx.probeId, ...a } };
}

/** The `token` of a get_peers / get response. */
export function tokenOf(r: { r: { token?: Uint8Array } }, what: string): Uint8Array {
  const token = r.r.token;
  ensure(token !== undefined && token.length > 0, `${what}: no "token" in the response`);
  return token;
}
