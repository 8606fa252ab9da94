#!/usr/bin/env node
// `pnpm demo`: everything on loopback, no outside servers.
//   1. the file-sharing swarm (apps/fileshare/dist/demo.js): a DHT bootstrap node, a seeder of a
//      generated 64 MiB file, three nodes fetching it by magnet link through the DHT, verified;
//   2. a short conversation between three messenger nodes (apps/messenger, `runChatDemo`):
//      rendezvous through the DHT, Noise XX secure streams, gossip room messages, a direct message.
// Each part stops everything it started; the script exits non-zero when either part fails.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const fileshareDemo = join(root, 'apps/fileshare/dist/demo.js');
const messengerLib = join(root, 'apps/messenger/dist/index.js');
for (const f of [fileshareDemo, messengerLib]) {
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
try {
  const summary = await runChatDemo({ log: (line) => console.log(line) });
  const ok = summary.messagesDelivered === summary.messagesExpected && summary.dmDelivered === true;
  console.log(
    `\nmessenger: ${summary.messagesDelivered}/${summary.messagesExpected} room deliveries, ` +
      `direct message ${summary.dmDelivered ? 'delivered' : 'NOT delivered'}`,
  );
  process.exit(ok ? 0 : 1);
} catch (error) {
  console.error(`messenger demo failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
