/**
 * `secureNetwork(network, options)`: the same `Network`, with every stream secured. `dial`
 * runs the handshake as initiator, `listen` hands out only streams whose handshake (as
 * responder) succeeded; datagrams pass through unchanged. Protocols written against
 * `Network` (gossip, apps) get authenticated, encrypted streams without another code path,
 * and can read `remoteIdentity` from the `SecureStream`s they are given.
 */
import type {
  Address,
  BindOptions,
  DialOptions,
  Network,
  Stream,
  StreamListener,
} from '@peerkit/transport';
import type { NoiseError } from './errors';
import type { Identity } from './identity';
import { type SecureOptions, secureInbound, secureOutbound } from './secure';
import type { SecureStream } from './secure-stream';

export interface SecureNetworkOptions {
  identity: Identity;
  /** Handshake deadline on the network's clock (default 10,000 ms). */
  timeoutMs?: number;
  prologue?: Uint8Array;
  /**
   * Called when an inbound handshake fails (the raw stream is already destroyed). Failures are
   * a misbehaving or unlucky peer, never a crash of the listener.
   */
  onHandshakeError?: (error: NoiseError, remoteAddress: Address) => void;
}

export interface SecureDialOptions extends DialOptions {
  /** Require this remote Ed25519 identity, else `IDENTITY_MISMATCH`. */
  expectedRemoteIdentity?: Uint8Array;
}

/** A `Network` whose streams are `SecureStream`s. */
export interface SecureNetwork extends Network {
  listen(options: BindOptions, onStream: (stream: SecureStream) => void): Promise<StreamListener>;
  dial(to: Address, options?: SecureDialOptions): Promise<SecureStream>;
}

export function secureNetwork(network: Network, options: SecureNetworkOptions): SecureNetwork {
  const base: SecureOptions = {
    identity: options.identity,
    clock: network.clock,
    timeoutMs: options.timeoutMs,
    prologue: options.prologue,
  };
  return {
    clock: network.clock,
    random: network.random,
    bindDatagram: (bind) => network.bindDatagram(bind),
    async listen(bind, onStream) {
      // Handshakes not finished yet: their streams were never handed out, so closing the
      // listener abandons them (accepted secure streams live on, as with any listener).
      const handshaking = new Set<Stream>();
      const listener = await network.listen(bind, (raw) => {
        handshaking.add(raw);
        secureInbound(raw, base).then(
          (secure) => {
            handshaking.delete(raw);
            onStream(secure);
          },
          (error: NoiseError) => {
            handshaking.delete(raw);
            options.onHandshakeError?.(error, raw.remoteAddress);
          },
        );
      });
      return {
        localAddress: listener.localAddress,
        async close() {
          await listener.close();
          for (const raw of handshaking) raw.destroy();
          handshaking.clear();
        },
      };
    },
    async dial(to, dialOptions) {
      const raw = await network.dial(to, dialOptions);
      return secureOutbound(raw, {
        ...base,
        expectedRemoteIdentity: dialOptions?.expectedRemoteIdentity,
      });
    },
  };
}
