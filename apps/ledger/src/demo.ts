/**
 * `runLedgerDemo`: the third part of `pnpm demo`. Three peerkit-ledger nodes on loopback (in
 * memory, real sockets): one mines and the others sync; a payment is relayed to every mempool
 * and mined by another node; then a node cut off from the others mines its own block, and when
 * it reconnects the short fork resolves to the most-work chain. Nothing leaves 127.0.0.1.
 */
import { COIN, hashToHex } from '@peerkit/ledger';
import { LedgerRuntime } from './runtime';

export interface LedgerDemoOptions {
  log?: (line: string) => void;
  /** Give up after this many milliseconds per step (default 30,000). */
  timeoutMs?: number;
}

export interface LedgerDemoSummary {
  height: number;
  synced: boolean;
  paymentRelayed: boolean;
  paymentConfirmed: boolean;
  payeeBalance: bigint;
  forkResolved: boolean;
  blocksReplaced: number;
}

const short = (hash: Uint8Array) => hashToHex(hash).slice(0, 16);

export async function runLedgerDemo(options: LedgerDemoOptions = {}): Promise<LedgerDemoSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const until = async (check: () => boolean, what: string): Promise<boolean> => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (check()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    log(`  (gave up waiting for ${what})`);
    return false;
  };
  const nodes: LedgerRuntime[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await LedgerRuntime.open({ port: 0 }));
    const [alice, bob, carol] = nodes as [LedgerRuntime, LedgerRuntime, LedgerRuntime];
    const names = new Map([
      [alice, 'alice'],
      [bob, 'bob'],
      [carol, 'carol'],
    ]);
    const addr = (rt: LedgerRuntime) => ({
      host: '127.0.0.1',
      port: rt.node.listenAddress?.port ?? 0,
    });
    for (const rt of nodes)
      log(`${names.get(rt)}: P2P on 127.0.0.1:${rt.node.listenAddress?.port}`);
    await alice.node.connect(addr(bob));
    await carol.node.connect(addr(bob));
    log('alice <-> bob <-> carol connected (version/verack, sendheaders, sendcmpct)');

    const aliceAddress = await alice.newAddress();
    await alice.generate(101, aliceAddress);
    log(
      `alice mined 101 blocks (regtest proof of work), tip ${alice.chain.tip.height} ${short(alice.chain.tip.hash)}`,
    );
    const synced = await until(
      () => nodes.every((n) => n.chain.tip.height === 101),
      'the others to sync',
    );
    log(
      `bob and carol synced headers-first: heights ${nodes.map((n) => n.chain.tip.height).join(', ')}`,
    );

    const carolAddress = await carol.newAddress();
    const id = await alice.send(carolAddress, 10n * COIN);
    log(`alice pays carol 10 coins: tx ${id.slice(0, 16)}… (signed P2PKH, relayed by inv/getdata)`);
    const paymentRelayed = await until(
      () => nodes.every((n) => [...n.mempool.entries()].some((e) => hashToHex(e.txid) === id)),
      'relay',
    );
    log(
      `  in the mempools of ${nodes
        .filter((n) => [...n.mempool.entries()].some((e) => hashToHex(e.txid) === id))
        .map((n) => names.get(n))
        .join(', ')}`,
    );
    const [mined] = await bob.generate(1, await bob.newAddress());
    log(
      `bob mines block ${bob.chain.tip.height} ${mined?.slice(0, 16)}… with the payment (announced by headers, fetched as a compact block rebuilt from the mempool)`,
    );
    const paymentConfirmed = await until(
      () => nodes.every((n) => n.mempool.size === 0 && n.chain.tip.height === 102),
      'the block to spread',
    );
    const payeeBalance = carol.wallet.balance(carol.chain).confirmed;
    log(
      `  every node at height 102, mempools empty; carol's balance: ${Number(payeeBalance) / Number(COIN)} coins`,
    );

    log('carol is cut off; carol mines 1 block while alice mines 2');
    carol.node.disconnect(addr(bob));
    await until(() => carol.node.readyPeers().length === 0, 'the disconnect');
    let blocksReplaced = 0;
    carol.node.on('tip', (e) => {
      blocksReplaced += e.disconnected.length;
    });
    await carol.generate(1, carolAddress);
    const carolFork = short(carol.chain.tip.hash);
    await alice.generate(2, aliceAddress);
    await until(() => bob.chain.tip.height === 104, 'bob to follow alice');
    log(`  carol's tip 103 ${carolFork}…, alice's tip 104 ${short(alice.chain.tip.hash)}…`);
    await carol.node.connect(addr(bob));
    const forkResolved = await until(
      () => nodes.every((n) => hashToHex(n.chain.tip.hash) === hashToHex(alice.chain.tip.hash)),
      'the fork to resolve',
    );
    log(
      `carol reconnects: the fork resolves to the most-work chain (${blocksReplaced} block replaced), all at ${short(carol.chain.tip.hash)}…`,
    );
    return {
      height: carol.chain.tip.height,
      synced,
      paymentRelayed,
      paymentConfirmed,
      payeeBalance,
      forkResolved,
      blocksReplaced,
    };
  } finally {
    for (const rt of nodes) await rt.close();
  }
}
