/**
 * The pings that keep a node's routing table honest (BEP 5 "Routing Table"):
 *
 * - `pingQuestionable`: a full bucket heard of a new node; its least recently seen questionable
 *   node is pinged, and replaced if it stays silent (BEP 5: "try once more before discarding").
 * - `verifyNode`: a node that is in our table only because it queried us is pinged once we would
 *   have handed it out (or answered its lookup step); its answer makes it verified, and only
 *   verified nodes go into our answers (docs/security.md, "DHT"). At most `MAX_VERIFYING` such
 *   pings are in flight, so a flood of new senders costs bounded work.
 */
import type { Contact } from './compact';
import { isDHTError } from './errors';
import { idEquals, type NodeId, toHex } from './node-id';
import type { RoutingTable, TableNode } from './routing-table';
import type { Rpc } from './rpc';

/** Verification pings in flight at most. */
export const MAX_VERIFYING = 16;

/** What one ping needs from its node (built per ping: nothing is kept per node). */
export interface PingContext {
  readonly rpc: Rpc;
  /** Our id now. */
  readonly id: NodeId;
  readonly table: RoutingTable;
  /** Hex ids of the nodes being pinged (the node keeps this set). */
  readonly pinging: Set<string>;
  /** The node answered our ping. */
  heard(contact: Contact): void;
  /** A replacement took the place of a node that failed. */
  promoted(contact: Contact): void;
}

/** Pings `contact`, unless it is already being pinged or too many verifications are. */
export function verifyNode(ctx: PingContext, contact: Contact): void {
  const { rpc, pinging } = ctx;
  const key = toHex(contact.id);
  if (pinging.has(key) || pinging.size >= MAX_VERIFYING) return;
  pinging.add(key);
  // Sent after the answer being built goes out.
  const ping = Promise.resolve().then(() => rpc.query(contact.address, 'ping', { id: ctx.id }));
  ping.then(
    (res) => {
      pinging.delete(key);
      if (idEquals(res.r.id, contact.id)) ctx.heard(contact);
      else ctx.table.fail(contact.id, true);
    },
    (error: unknown) => {
      pinging.delete(key);
      if (!isDHTError(error, 'CLOSED')) ctx.table.fail(contact.id);
    },
  );
}

/** BEP 5: ping the least recently seen questionable node of a full bucket. */
export function pingQuestionable(ctx: PingContext, candidates: TableNode[]): void {
  const { rpc, pinging } = ctx;
  const lastSeen = (n: TableNode) => Math.max(n.lastResponse ?? -1, n.lastQuery ?? -1);
  const node = [...candidates]
    .sort((a, b) => lastSeen(a) - lastSeen(b))
    .find((n) => !pinging.has(toHex(n.id)));
  if (!node) return;
  const key = toHex(node.id);
  pinging.add(key);
  rpc.query(node.address, 'ping', { id: ctx.id }).then(
    (res) => {
      pinging.delete(key);
      if (idEquals(res.r.id, node.id)) ctx.heard({ id: node.id, address: node.address });
      else ctx.table.fail(node.id, true);
    },
    (error: unknown) => {
      pinging.delete(key);
      if (isDHTError(error, 'CLOSED')) return; // we closed, the node did nothing wrong
      // The RPC layer already retried: BEP 5's "try once more before discarding".
      const { promoted } = ctx.table.fail(node.id, true);
      if (promoted) ctx.promoted(promoted);
    },
  );
}
