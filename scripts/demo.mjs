#!/usr/bin/env node
// `pnpm demo`: everything on loopback, no outside servers.
//   1. the file-sharing swarm (apps/fileshare/dist/demo.js): a DHT bootstrap node, peerkit's own
//      tracker (HTTP + UDP), a seeder of a generated 64 MiB file, three nodes fetching it by
//      magnet link through the DHT and the tracker, verified;
//   2. a short conversation between three messenger nodes (apps/messenger, `runChatDemo`):
//      rendezvous through the DHT, Noise XX secure streams, gossip room messages, a direct message;
//   3. three peerkit-ledger nodes (apps/ledger, `runLedgerDemo`): mining, headers-first sync, a
//      payment relayed and mined, and a short fork resolved to the most-work chain.
// Each part stops everything it started; the script exits non-zero when either part fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const fileshareDemo = join(root, 'apps/fileshare/dist/demo.js');
const messengerLib = join(root, 'apps/messenger/dist/index.js');
const ledgerLib = join(root, 'apps/ledger/dist/index.js');
for (const f of [fileshareDemo, messengerLib, ledgerLib]) {
  if (!existsSync(f)) {
    console.error(`missing ${f}: build first (pnpm demo does)`);
    process.exit(1);
  }
}

console.log('== Part 1: file sharing (peerkit-share) ==\n');
const share = spawnSync(process.execPath, [fileshareDemo], { stdio: 'inherit' });
if (share.status !== 0) {
  console.error(`file-sharing demo failed (exit ${share.status ?? share.signal})`);
  process.exit(1);
}

console.log('\n== Part 2: messenger (peerkit-chat) ==\n');
const { runChatDemo } = await import(pathToFileURL(messengerLib).href);
let chatOk = false;
try {
  const summary = await runChatDemo({ log: (line) => console.log(line) });
  chatOk = summary.messagesDelivered === summary.messagesExpected && summary.dmDelivered === true;
  console.log(
    `\nmessenger: ${summary.messagesDelivered}/${summary.messagesExpected} room deliveries, ` +
      `direct message ${summary.dmDelivered ? 'delivered' : 'NOT delivered'}`,
  );
} catch (error) {
  console.error(`messenger demo failed: ${error instanceof Error ? error.message : error}`);
}

console.log('\n== Part 3: ledger (peerkit-ledger) ==\n');
const { runLedgerDemo } = await import(pathToFileURL(ledgerLib).href);
let ledgerOk = false;
try {
  const s = await runLedgerDemo({ log: (line) => console.log(line) });
  ledgerOk = s.synced && s.paymentRelayed && s.paymentConfirmed && s.forkResolved;
  console.log(
    `\nledger: synced ${s.synced ? 'yes' : 'NO'}, payment relayed ${s.paymentRelayed ? 'yes' : 'NO'} and ` +
      `${s.paymentConfirmed ? 'confirmed' : 'NOT confirmed'}, fork ${s.forkResolved ? 'resolved' : 'NOT resolved'} at height ${s.height}`,
  );
} catch (error) {
  console.error(`ledger demo failed: ${error instanceof Error ? error.message : error}`);
}
process.exit(chatOk && ledgerOk ? 0 : 1);
