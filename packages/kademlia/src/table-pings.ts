/**
 * The pings that keep a node's routing table honest (BEP 5 "Routing Table"):
 *
 * - `pingQuestionable`: a full bucket heard of a new node; its least recently seen questionable
 *   node is pinged, and replaced if it stays silent (BEP 5: "try once more before discarding").
 * - `verify`: a node that is in our table only because it queried us is pinged once we would
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

/** What the pings need from their node (read at each ping: the id and table may change). */
export interface PingHost {
  rpc(): Rpc | undefined;
  id(): NodeId;
  table(): RoutingTable;
  isClosed(): boolean;
  /** The node answered our ping. */
  heard(contact: Contact): void;
  /** A replacement took the place of a node that failed. */
  promoted(contact: Contact): void;
}

export class TablePings {
  /** Hex ids of the nodes being pinged; created on the first ping (most nodes rarely ping). */
  private pinging: Set<string> | undefined;

  constructor(private readonly host: PingHost) {}

  /** Pings `contact`, unless it is already being pinged or too many verifications are. */
  verify(contact: Contact): void {
    const rpc = this.host.rpc();
    this.pinging ??= new Set();
    const pinging = this.pinging;
    const key = toHex(contact.id);
    if (!rpc || this.host.isClosed() || pinging.has(key) || pinging.size >= MAX_VERIFYING) return;
    pinging.add(key);
    // Sent after the answer being built goes out.
    const ping = Promise.resolve().then(() =>
      rpc.query(contact.address, 'ping', { id: this.host.id() }),
    );
    ping.then(
      (res) => {
        pinging.delete(key);
        if (idEquals(res.r.id, contact.id)) this.host.heard(contact);
        else this.host.table().fail(contact.id, true);
      },
      (error: unknown) => {
        pinging.delete(key);
        if (!isDHTError(error, 'CLOSED')) this.host.table().fail(contact.id);
      },
    );
  }

  /** BEP 5: ping the least recently seen questionable node of a full bucket. */
  pingQuestionable(candidates: TableNode[]): void {
    const rpc = this.host.rpc();
    if (!rpc) return;
    const lastSeen = (n: TableNode) => Math.max(n.lastResponse ?? -1, n.lastQuery ?? -1);
    this.pinging ??= new Set();
    const pinging = this.pinging;
    const node = [...candidates]
      .sort((a, b) => lastSeen(a) - lastSeen(b))
      .find((n) => !pinging.has(toHex(n.id)));
    if (!node) return;
    const key = toHex(node.id);
    pinging.add(key);
    rpc.query(node.address, 'ping', { id: this.host.id() }).then(
      (res) => {
        pinging.delete(key);
        if (idEquals(res.r.id, node.id)) this.host.heard({ id: node.id, address: node.address });
        else this.host.table().fail(node.id, true);
      },
      (error: unknown) => {
        pinging.delete(key);
        if (isDHTError(error, 'CLOSED')) return; // we closed, the node did nothing wrong
        // The RPC layer already retried: BEP 5's "try once more before discarding".
        const { promoted } = this.host.table().fail(node.id, true);
        if (promoted) this.host.promoted(promoted);
      },
    );
  }
}
