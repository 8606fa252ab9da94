/**
 * `peerRules`: the peer wire conformance suite (BEP 3, 6, 9, 10) against a live peer that seeds
 * the torrent given to its context. We are the client: we dial, we handshake, we request.
 */
import type { Rule } from '@peerkit/conformance';
import type { PeerContext } from './context';
import { extensionHandshakeValid, metadataPieces } from './extension-rules';
import { fastNotNegotiated, fastRejectChoked, requestChoked } from './fast-rules';
import {
  handshakeInfoHash,
  handshakeOtherProtocol,
  handshakeUnknownInfoHash,
} from './handshake-rules';
import { bitfieldShape, lateBitfield, wireGarbage } from './message-rules';
import { requestBlock, requestOutOfRange, requestOversized } from './request-rules';

/** The rules in the order they run (rules that share one unchoked connection run in a row). */
export const peerRules: readonly Rule<PeerContext>[] = [
  handshakeInfoHash,
  handshakeUnknownInfoHash,
  handshakeOtherProtocol,
  bitfieldShape,
  fastNotNegotiated,
  requestChoked,
  fastRejectChoked,
  extensionHandshakeValid,
  // These share one unchoked connection (clients unchoke every ~10 s only).
  requestBlock,
  requestOversized,
  requestOutOfRange,
  lateBitfield,
  metadataPieces,
  wireGarbage,
];
