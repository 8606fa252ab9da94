/**
 * Runs the DHT conformance rules (`dhtRules`) from code against a live node: the one at
 * HOST:PORT if given, else a peerkit node started here with a few others to know.
 *
 *   node --conditions=@peerkit/source --import tsx examples/conformance.ts [host:port] [runs]
 *
 * Exits with status 1 when a rule fails. `peerkit-conform dht HOST:PORT` does the same with
 * more options (seed, replay, JSON output).
 */

import { runRules } from '@peerkit/conformance';
import { type Address, nodeNetwork, parseAddress } from '@peerkit/transport';
import { dhtRules, openDhtContext } from '../src/conformance';
import { DHT } from '../src/index';

const [targetText, runsText = '20'] = process.argv.slice(2);
const network = nodeNetwork();
const started: DHT[] = [];

let target: Address;
if (targetText === undefined) {
  // Our own node, rate limit lifted (the suite sends hundreds of queries from one IP).
  for (let i = 0; i < 5; i++) {
    const dht = new DHT({ network, rpc: { ratePerSecond: 10_000, rateBurst: 10_000 } });
    await dht.listen({ host: '127.0.0.1' });
    started.push(dht);
  }
  const [first, ...others] = started as [DHT, ...DHT[]];
  await Promise.all(others.map((n) => n.bootstrap([first.address])));
  target = first.address;
} else {
  target = parseAddress(targetText);
}

const ctx = await openDhtContext(network, target, { timeoutMs: 2000 });
let ok = false;
try {
  const report = await runRules('dht', `${target.host}:${target.port}`, dhtRules, ctx, {
    runs: Number(runsText),
    onResult: (r) => console.log(r.outcome.padEnd(14), r.id, r.reason ?? ''),
  });
  for (const r of report.results.filter((x) => x.outcome === 'failed')) {
    console.log(`\n${r.id}: ${r.reason}\n  case: ${r.counterexample ?? '-'}`);
    console.log(`  replay: seed ${r.seed}, path ${r.path ?? '-'}`);
  }
  ok = report.ok;
} finally {
  await ctx.close();
  await Promise.all(started.map((n) => n.close()));
}
process.exitCode = ok ? 0 : 1;
