/**
 * The gossip conformance suite: every rule of peerkit's gossip wire spec (README, "Wire spec"
 * and "How it works") that a raw peer can check against a live node, in the order they run.
 */
import type { Rule } from '@peerkit/conformance';
import type { GossipContext } from './context';
import { badFrame, oversizeFrame } from './rules/frames';
import { ihave, iwant } from './rules/gossip';
import { hello, helloFirst, helloVersion, subscriptions } from './rules/hello';
import { graftBackoff, graftUnsubscribed } from './rules/mesh';
import { forward, publish, signature } from './rules/messages';

export const gossipRules: readonly Rule<GossipContext>[] = [
  hello,
  helloVersion,
  helloFirst,
  subscriptions,
  forward,
  publish,
  signature,
  iwant,
  ihave,
  graftBackoff,
  graftUnsubscribed,
  badFrame,
  oversizeFrame,
];
