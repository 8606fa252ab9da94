/**
 * fast-check arbitraries for ids, addresses and KRPC messages (exported from `./testing`).
 * Each message arbitrary produces values in exactly the shape `decodeMessage` returns, so
 * `decodeMessage(encodeMessage(m))` must deep-equal `m`.
 */
import { encode } from '@peerkit/bencode';
import { arbBencodeValue } from '@peerkit/bencode/testing';
import type { Address } from '@peerkit/transport';
import fc from 'fast-check';
import type { Contact } from '../compact';
import { bytesToIp } from '../ip';
import type {
  KrpcErrorMessage,
  KrpcMessage,
  KrpcQuery,
  KrpcResponse,
  QueryArguments,
  ResponseValues,
} from '../krpc';
import type { NodeId } from '../node-id';

/** A 20-byte node id / info-hash. */
export function arbNodeId(): fc.Arbitrary<NodeId> {
  return fc.uint8Array({ minLength: 20, maxLength: 20 });
}

/** An IPv4 or IPv6 address with a port in 1..65535, in canonical text form. */
export function arbAddress(family: 4 | 6 | 'any' = 'any'): fc.Arbitrary<Address> {
  const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const ip = family === 4 ? v4 : family === 6 ? v6 : fc.oneof(v4, v6);
  return fc
    .tuple(ip, fc.integer({ min: 1, max: 65535 }))
    .map(([b, port]) => ({ host: bytesToIp(b), port }));
}

export function arbContact(family: 4 | 6 | 'any' = 4): fc.Arbitrary<Contact> {
  return fc.record({ id: arbNodeId(), address: arbAddress(family) });
}

const arbTid = fc.uint8Array({ minLength: 1, maxLength: 8 });
const arbToken = fc.uint8Array({ minLength: 1, maxLength: 20 });
const arbV = arbBencodeValue({ maxDepth: 2, maxItems: 3, maxBytes: 16 }).map((v) => encode(v));
const arbSeq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

function opt<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

function compactEntries(entry: number, max: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength: max }).map((b) => b.subarray(0, b.length - (b.length % entry)));
}

/** Drops keys whose value is undefined (decodeMessage never sets them). */
function clean<T extends object>(o: T): T {
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] === undefined) delete o[key];
  return o;
}

const arbVersion = opt(fc.uint8Array({ minLength: 4, maxLength: 4 }));

/** A query of any BEP 5 / BEP 44 / BEP 51 method (or an unknown one), with plausible arguments. */
export function arbKrpcQuery(): fc.Arbitrary<KrpcQuery> {
  const args = fc.record({
    id: arbNodeId(),
    target: opt(arbNodeId()),
    infoHash: opt(arbNodeId()),
    port: opt(fc.integer({ min: 0, max: 65535 })),
    impliedPort: opt(fc.boolean()),
    token: opt(arbToken),
    want: opt(fc.subarray(['n4', 'n6'])),
    v: opt(arbV),
    k: opt(fc.uint8Array({ minLength: 32, maxLength: 32 })),
    sig: opt(fc.uint8Array({ minLength: 64, maxLength: 64 })),
    seq: opt(arbSeq),
    cas: opt(arbSeq),
    salt: opt(fc.uint8Array({ minLength: 1, maxLength: 64 })),
  });
  return fc
    .record({
      t: arbTid,
      q: fc.constantFrom(
        'ping',
        'find_node',
        'get_peers',
        'announce_peer',
        'get',
        'put',
        'sample_infohashes',
        'vote',
      ),
      a: args,
      ro: opt(fc.boolean()),
      version: arbVersion,
    })
    .map((m) => clean({ ...m, y: 'q' as const, a: clean(m.a as QueryArguments) }));
}

export function arbKrpcResponse(): fc.Arbitrary<KrpcResponse> {
  const values = fc.record({
    id: arbNodeId(),
    nodes: opt(compactEntries(26, 26 * 8)),
    nodes6: opt(compactEntries(38, 38 * 8)),
    token: opt(arbToken),
    values: opt(
      fc.array(
        fc.oneof(
          fc.uint8Array({ minLength: 6, maxLength: 6 }),
          fc.uint8Array({ minLength: 18, maxLength: 18 }),
        ),
        { maxLength: 10 },
      ),
    ),
    v: opt(arbV),
    k: opt(fc.uint8Array({ minLength: 32, maxLength: 32 })),
    sig: opt(fc.uint8Array({ minLength: 64, maxLength: 64 })),
    seq: opt(arbSeq),
    // BEP 51 sample_infohashes (any non-negative interval and num decode; 0-21600 is the BEP's).
    interval: opt(fc.integer({ min: 0, max: 2 ** 31 })),
    num: opt(fc.nat()),
    samples: opt(compactEntries(20, 20 * 12)),
  });
  return fc
    .record({ t: arbTid, r: values, ip: opt(arbAddress()), version: arbVersion })
    .map((m) => clean({ ...m, y: 'r' as const, r: clean(m.r as ResponseValues) }));
}

export function arbKrpcError(): fc.Arbitrary<KrpcErrorMessage> {
  return fc
    .record({
      t: arbTid,
      code: fc.constantFrom(201, 202, 203, 204, 205, 206, 207, 301, 302),
      message: fc.string({ maxLength: 40 }),
      ip: opt(arbAddress()),
      version: arbVersion,
    })
    .map(({ code, message, ...rest }) => clean({ ...rest, y: 'e' as const, e: { code, message } }));
}

export function arbKrpcMessage(): fc.Arbitrary<KrpcMessage> {
  return fc.oneof(arbKrpcQuery(), arbKrpcResponse(), arbKrpcError());
}
