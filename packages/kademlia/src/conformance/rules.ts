/**
 * The Mainline DHT rule set: BEP 5 (KRPC and its four queries), BEP 44 (items, where the
 * node supports them) and BEP 51 (`sample_infohashes`, where supported), in the order `peerkit-conform dht` reports them. Each rule quotes the
 * BEP sentence it checks.
 */
import type { Rule } from '@peerkit/conformance';
import { bep44Rules } from './bep44-rules';
import { bep51Rules } from './bep51-rules';
import type { DhtContext } from './context';
import { echoTransactionId, garbage, malformedQueries, unknownMethod } from './krpc-rules';
import {
  announceBadToken,
  announceOtherIp,
  announceStored,
  findNodeClosest,
  findNodeExact,
  findNodeK,
  findNodeShape,
  getPeersShape,
  pingResponse,
} from './query-rules';

export const dhtRules: readonly Rule<DhtContext>[] = [
  echoTransactionId,
  pingResponse,
  findNodeShape,
  findNodeK,
  findNodeClosest,
  findNodeExact,
  getPeersShape,
  announceStored,
  announceOtherIp,
  announceBadToken,
  malformedQueries,
  unknownMethod,
  garbage,
  ...bep44Rules,
  ...bep51Rules,
];
