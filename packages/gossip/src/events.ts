/**
 * The node's events, in peerkit's one event convention (`Emitter` from `@peerkit/transport`,
 * docs/architecture.md "Events"): one payload object per event; `node.on(name, handler)`
 * returns the remover; a handler that throws goes to `onError` (default: one line on stderr)
 * and neither stops the other handlers nor costs the connection.
 */
import type { Address } from '@peerkit/transport';
import type { GossipError } from './errors';
import type { PeerKey } from './ids';
import type { GossipMessage } from './message';

/** A message delivered to the application. */
export interface GossipEvent {
  readonly message: GossipMessage;
  /** The message id (by `msgIdFn`). */
  readonly id: Uint8Array;
  /** The peer we received it from (its propagation source), hex peer id. */
  readonly from: PeerKey;
}

/**
 * A change in the node's connected peers (README, "Peer events"), for `on('peer', …)` handlers:
 *
 * - `connect`: a peer completed the hello and is now in `peers()`;
 * - `disconnect`: an established peer left (`error`: why, when it was not a clean close);
 * - `refused`: a stream was closed before it became a peer because of a wire-level fault, e.g.
 *   `BAD_HELLO` when the hello named another peer id than the authenticated one (`expected`
 *   and `claimed` are then both set; the authenticated peer gets a behaviour penalty).
 *
 * Each established peer gets exactly one `connect` and, later, one `disconnect`; replacing a
 * duplicate connection to the same peer emits neither. No events are emitted after `close()`.
 */
export type PeerEvent =
  | {
      readonly type: 'connect';
      readonly peer: PeerKey;
      readonly outbound: boolean;
      /** The remote end of the stream. */
      readonly remoteAddress: Address;
    }
  | { readonly type: 'disconnect'; readonly peer: PeerKey; readonly error?: unknown }
  | {
      readonly type: 'refused';
      readonly error: GossipError;
      readonly outbound: boolean;
      readonly remoteAddress: Address;
      /** The authenticated peer id the hello had to carry (hex), if one was required. */
      readonly expected?: PeerKey;
      /** The peer id the hello claimed instead (hex), on an id mismatch. */
      readonly claimed?: PeerKey;
    };

/** The events of a `GossipNode`. */
export interface GossipEvents {
  /** A message delivered to the application (each once). */
  message: GossipEvent;
  /** A peer connected, disconnected, or a stream was refused. */
  peer: PeerEvent;
}
