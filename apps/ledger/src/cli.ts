#!/usr/bin/env node
/**
 * `peerkit-ledger`: a regtest node shaped like bitcoind (`peerkit-ledger node`) and its client
 * shaped like bitcoin-cli (`address`, `balance`, `send`, `mine`, `tip`, `tx`, `peers`).
 */
import { Command, Option } from 'commander';
import { type ClientOptions, RpcCallError, rpcCall } from './client';
import { InputError, parseCount, parseHostPort, parsePort } from './input';
import { startRpcServer } from './rpc-server';
import { LedgerRuntime } from './runtime';

const DEFAULT_RPC_PORT = 18443;

interface ClientFlags {
  rpcPort: string;
  datadir?: string;
  rpcUser?: string;
  rpcPassword?: string;
  json?: boolean;
}

function fail(error: unknown): never {
  const bad =
    error instanceof InputError ||
    (error instanceof RpcCallError && [-3, -5, -8, -32602].includes(error.code));
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`peerkit-ledger: ${message}\n`);
  process.exit(bad ? 2 : 1);
}

function clientOptions(flags: ClientFlags): ClientOptions {
  const credentials =
    flags.rpcUser !== undefined || flags.rpcPassword !== undefined
      ? `${flags.rpcUser ?? ''}:${flags.rpcPassword ?? ''}`
      : undefined;
  return {
    port: parsePort(flags.rpcPort, '--rpc-port', false),
    ...(flags.datadir ? { datadir: flags.datadir } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

function withClient(cmd: Command): Command {
  return cmd
    .option('--rpc-port <port>', "the node's JSON-RPC port", String(DEFAULT_RPC_PORT))
    .option('--datadir <dir>', "the node's data directory (its .cookie authenticates us)")
    .option('--rpc-user <user>', 'RPC user (instead of the cookie)')
    .option('--rpc-password <password>', 'RPC password')
    .option('--json', 'print the JSON-RPC result as JSON');
}

function print(flags: ClientFlags, value: unknown, human: () => string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

const program = new Command('peerkit-ledger')
  .description(
    "A regtest blockchain node speaking Bitcoin's peer-to-peer protocol, and its client.",
  )
  .showHelpAfterError()
  .version('0.1.0');

program
  .command('node')
  .description(
    'run a node: P2P on --port, JSON-RPC (Bitcoin Core method names) on 127.0.0.1:--rpc-port',
  )
  .option('--port <port>', 'P2P port (0: any free port)', '18444')
  .option('--host <ip>', 'P2P listening address', '127.0.0.1')
  .addOption(
    new Option('--connect <host:port>', 'keep a connection to this peer (repeatable)').argParser(
      (v: string, prev: string[] = []) => [...prev, v],
    ),
  )
  .option('--datadir <dir>', 'where the chain and the wallet are kept (default: in memory)')
  .option('--rpc-port <port>', 'JSON-RPC port (0: any free port)', String(DEFAULT_RPC_PORT))
  .option('--rpc-user <user>', 'RPC user (default: a cookie in the datadir)')
  .option('--rpc-password <password>', 'RPC password')
  .option('--quiet', 'no progress display')
  .action(
    async (flags: {
      port: string;
      host: string;
      connect?: string[];
      datadir?: string;
      rpcPort: string;
      rpcUser?: string;
      rpcPassword?: string;
      quiet?: boolean;
    }) => {
      try {
        const port = parsePort(flags.port, '--port');
        const rpcPort = parsePort(flags.rpcPort, '--rpc-port');
        const connect = (flags.connect ?? []).map((c) => parseHostPort(c, 18444));
        if ((flags.rpcUser === undefined) !== (flags.rpcPassword === undefined))
          throw new InputError('give both --rpc-user and --rpc-password, or neither');
        const rt = await LedgerRuntime.open({
          port,
          host: flags.host,
          connect,
          ...(flags.datadir ? { datadir: flags.datadir } : {}),
        });
        const credentials =
          flags.rpcUser !== undefined ? `${flags.rpcUser}:${flags.rpcPassword}` : undefined;
        let rpc: Awaited<ReturnType<typeof startRpcServer>>;
        try {
          rpc = await startRpcServer(rt, {
            port: rpcPort,
            ...(credentials ? { credentials } : {}),
          });
        } catch (error) {
          await rt.close();
          throw new InputError(
            `cannot serve JSON-RPC on 127.0.0.1:${rpcPort}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        const p2p = rt.node.listenAddress;
        process.stdout.write(
          `peerkit-ledger node: P2P ${p2p?.host}:${p2p?.port}, JSON-RPC 127.0.0.1:${rpc.port}, ${flags.datadir ? `datadir ${flags.datadir}` : 'in memory'}, height ${rt.chain.tip.height}\n`,
        );
        if (!flags.quiet) attachProgress(rt);
        const stop = async () => {
          process.stdout.write('peerkit-ledger node: stopping\n');
          await rpc.close();
          await rt.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop());
        process.once('SIGTERM', () => void stop());
      } catch (error) {
        fail(error);
      }
    },
  );

/** One status line while syncing (rewritten in place on a terminal), one line per new tip after. */
function attachProgress(rt: LedgerRuntime): void {
  const tty = process.stdout.isTTY === true;
  let last = 0;
  rt.node.on('sync', ({ height, headerHeight }) => {
    const now = Date.now();
    if (height < headerHeight && now - last < 250) return;
    last = now;
    if (height < headerHeight) {
      const pct = ((100 * height) / Math.max(1, headerHeight)).toFixed(1);
      const line = `syncing: block ${height} of ${headerHeight} (${pct}%), ${rt.node.readyPeers().length} peers`;
      process.stdout.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    }
  });
  rt.node.on('tip', ({ height, hash, disconnected }) => {
    if (rt.chain.bestHeader.height > height) return;
    const reorg =
      disconnected.length > 0 ? ` (reorg: ${disconnected.length} block(s) replaced)` : '';
    process.stdout.write(
      `${tty ? '\r\x1b[K' : ''}tip ${height} ${Buffer.from(hash).reverse().toString('hex')}${reorg}\n`,
    );
  });
  rt.node.on('peer', ({ peer, connected, reason }) => {
    process.stdout.write(
      `${tty ? '\r\x1b[K' : ''}peer ${connected ? 'connected' : 'disconnected'}: ${peer.address} ${peer.userAgent}${reason ? ` (${reason})` : ''}\n`,
    );
  });
  rt.node.on('banned', ({ host, reason }) => process.stdout.write(`banned ${host}: ${reason}\n`));
}

withClient(
  program
    .command('address')
    .description("a new receiving address of the node's wallet (getnewaddress)"),
).action(async (flags: ClientFlags) => {
  try {
    const a = await rpcCall<string>(clientOptions(flags), 'getnewaddress');
    print(flags, a, () => a);
  } catch (error) {
    fail(error);
  }
});

withClient(program.command('balance').description("the wallet's balance (getbalances)")).action(
  async (flags: ClientFlags) => {
    try {
      const b = await rpcCall<{
        mine: { trusted: number; untrusted_pending: number; immature: number };
      }>(clientOptions(flags), 'getbalances');
      print(
        flags,
        b,
        () =>
          `${b.mine.trusted.toFixed(8)} spendable, ${b.mine.untrusted_pending.toFixed(8)} unconfirmed, ${b.mine.immature.toFixed(8)} immature`,
      );
    } catch (error) {
      fail(error);
    }
  },
);

withClient(
  program
    .command('send')
    .description('pay AMOUNT coins to ADDR (sendtoaddress)')
    .argument('<addr>')
    .argument('<amount>'),
).action(async (addr: string, amount: string, flags: ClientFlags) => {
  try {
    if (!/^\d+(\.\d{1,8})?$/.test(amount) || Number(amount) <= 0)
      throw new InputError(
        `AMOUNT must be a positive number of coins with at most 8 decimals, got "${amount}"`,
      );
    const id = await rpcCall<string>(clientOptions(flags), 'sendtoaddress', [addr, amount]);
    print(flags, id, () => `sent ${amount} to ${addr}: txid ${id}`);
  } catch (error) {
    fail(error);
  }
});

withClient(
  program
    .command('mine')
    .description('mine N blocks (generatetoaddress), paying a new wallet address unless --address')
    .argument('<n>')
    .option('--address <addr>', 'pay the coinbases to this address'),
).action(async (n: string, flags: ClientFlags & { address?: string }) => {
  try {
    const count = parseCount(n, 'N', 10_000);
    const opts = clientOptions(flags);
    const address = flags.address ?? (await rpcCall<string>(opts, 'getnewaddress'));
    const hashes = await rpcCall<string[]>(opts, 'generatetoaddress', [count, address]);
    print(flags, hashes, () => `mined ${hashes.length} block(s), tip ${hashes.at(-1)}`);
  } catch (error) {
    fail(error);
  }
});

withClient(program.command('tip').description('height and hash of the best block')).action(
  async (flags: ClientFlags) => {
    try {
      const opts = clientOptions(flags);
      const info = await rpcCall<{ blocks: number; headers: number; bestblockhash: string }>(
        opts,
        'getblockchaininfo',
      );
      print(
        flags,
        info,
        () =>
          `${info.blocks} ${info.bestblockhash}${info.headers > info.blocks ? ` (syncing, ${info.headers} headers)` : ''}`,
      );
    } catch (error) {
      fail(error);
    }
  },
);

withClient(
  program
    .command('tx')
    .description('a transaction from the mempool or the chain (getrawtransaction)')
    .argument('<txid>'),
).action(async (id: string, flags: ClientFlags) => {
  try {
    if (!/^[0-9a-fA-F]{64}$/.test(id))
      throw new InputError(`TXID must be 64 hex digits, got "${id}"`);
    const tx = await rpcCall<{
      txid: string;
      confirmations?: number;
      vout: { value: number; scriptPubKey: { address?: string } }[];
    }>(clientOptions(flags), 'getrawtransaction', [id, true]);
    print(flags, tx, () =>
      [
        `${tx.txid} ${tx.confirmations ? `${tx.confirmations} confirmation(s)` : 'in the mempool'}`,
        ...tx.vout.map(
          (o, i) =>
            `  output ${i}: ${o.value.toFixed(8)} to ${o.scriptPubKey.address ?? '(non-standard script)'}`,
        ),
      ].join('\n'),
    );
  } catch (error) {
    fail(error);
  }
});

withClient(program.command('peers').description('connected peers (getpeerinfo)')).action(
  async (flags: ClientFlags) => {
    try {
      const peers = await rpcCall<
        {
          id: number;
          addr: string;
          inbound: boolean;
          subver: string;
          synced_headers: number;
          pingtime?: number;
        }[]
      >(clientOptions(flags), 'getpeerinfo');
      print(flags, peers, () =>
        peers.length === 0
          ? 'no peers'
          : peers
              .map(
                (p) =>
                  `${p.id} ${p.inbound ? 'in ' : 'out'} ${p.addr} ${p.subver} headers ${p.synced_headers}${p.pingtime === undefined ? '' : ` ping ${(p.pingtime * 1000).toFixed(0)} ms`}`,
              )
              .join('\n'),
      );
    } catch (error) {
      fail(error);
    }
  },
);

program.parseAsync(process.argv).catch(fail);
