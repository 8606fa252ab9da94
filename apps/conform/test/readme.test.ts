import { readFileSync } from 'node:fs';
import { gossipRules } from '@peerkit/gossip/conformance';
import { dhtRules } from '@peerkit/kademlia/conformance';
import { peerRules } from '@peerkit/piece-exchange/conformance';
import { describe, expect, it } from 'vitest';

// The issue asks for every rule in this README with its spec citation; the rules live in the
// packages, so this test keeps the README's tables in step with them.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const listed = [...readme.matchAll(/^\| `((?:dht|peer|gossip)\.[a-z0-9_.-]+)`/gm)].map((m) => m[1]);

describe('README rule tables', () => {
  it.each([
    ['dht', dhtRules],
    ['peer', peerRules],
    ['gossip', gossipRules],
  ] as const)('lists every %s rule once, in the suite order, with its spec', (suite, rules) => {
    const ids = rules.map((r) => r.id);
    expect(listed.filter((id) => id?.startsWith(`${suite}.`))).toEqual(ids);
    for (const rule of rules) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${rule.id}\``));
      // The quoted sentence, or a pointer to the quote in the row above it.
      const quoted = row?.includes(rule.cite.text.slice(0, 25)) || row?.includes('(same sentence)');
      expect(quoted, `${rule.id}: ${row}`).toBe(true);
    }
  });
});
