/**
 * The DHT's events, in peerkit's one event convention (`Emitter` from `@peerkit/transport`):
 * one payload object per event; `dht.on(name, handler)` returns the remover; a handler that
 * throws is reported and isolated from the node and from the other handlers.
 */
import type { Address } from '@peerkit/transport';
import type { Contact } from './compact';
import type { NodeId } from './node-id';

/** A node joined our routing table. */
export interface NodeEvent {
  contact: Contact;
}

/** A peer for an info-hash: found by one of our lookups (`peer`) or announced to us (`announce`). */
export interface PeerEvent {
  peer: Address;
  infoHash: NodeId;
}

/** Our id changed (BEP 42, after enough nodes agreed on our external IP). */
export interface IdEvent {
  id: NodeId;
}

/** The DHT's events (the `Emitter` convention: one payload object per event). */
export interface DHTEvents {
  node: NodeEvent;
  peer: PeerEvent;
  announce: PeerEvent;
  id: IdEvent;
}
