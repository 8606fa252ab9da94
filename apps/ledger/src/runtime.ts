/**
 * One peerkit-ledger node: ledger-core's Chain (a file store in `--datadir`, or memory), Mempool
 * and Wallet, the CPU miner, and the P2P `LedgerNode` on real sockets. The JSON-RPC methods
 * (rpc-methods.ts) and the demo drive it; nothing here parses user input.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addressToScript,
  type Block,
  Chain,
  createBlockTemplate,
  decodeWif,
  encodeWif,
  hashToHex,
  LedgerError,
  LedgerNode,
  Mempool,
  mineBlock,
  openFileChainStore,
  REGTEST,
  type Transaction,
  txid,
  unixTimeFrom,
  Wallet,
} from '@peerkit/ledger';
import { type Address, type Network, nodeNetwork } from '@peerkit/transport';

export interface RuntimeOptions {
  /** Where the chain and the wallet live; omit for a node in memory. */
  datadir?: string;
  /** P2P listening port (0: any free port; default 18444). */
  port?: number;
  host?: string;
  /** Peers to keep connected to (`--connect`). */
  connect?: Address[];
  network?: Network;
}

const WALLET_FILE = 'wallet.json';

export class LedgerRuntime {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly wallet: Wallet;
  readonly node: LedgerNode;
  readonly datadir: string | undefined;
  #extraNonce = 0;
  #mining: Promise<unknown> = Promise.resolve();

  private constructor(
    chain: Chain,
    mempool: Mempool,
    wallet: Wallet,
    node: LedgerNode,
    datadir: string | undefined,
  ) {
    this.chain = chain;
    this.mempool = mempool;
    this.wallet = wallet;
    this.node = node;
    this.datadir = datadir;
  }

  static async open(options: RuntimeOptions = {}): Promise<LedgerRuntime> {
    const network = options.network ?? nodeNetwork();
    const epochMs = Date.now() - network.clock.now();
    const now = unixTimeFrom(network.clock, epochMs / 1000);
    const datadir = options.datadir;
    if (datadir) await mkdir(datadir, { recursive: true });
    // The chain store takes the directory's lock: a second node on the same datadir is refused.
    const store = datadir ? await openFileChainStore(join(datadir, 'chain')) : undefined;
    const chain = await Chain.open({ now, ...(store ? { store } : {}) });
    const mempool = new Mempool({ chain });
    const wallet = new Wallet();
    if (datadir) await loadWallet(wallet, join(datadir, WALLET_FILE));
    const node = new LedgerNode({
      network,
      epochMs,
      chain,
      mempool,
      listen: { host: options.host ?? '127.0.0.1', port: options.port ?? REGTEST.defaultPort },
    });
    const runtime = new LedgerRuntime(chain, mempool, wallet, node, datadir);
    try {
      await node.start();
    } catch (error) {
      await runtime.close();
      throw error;
    }
    for (const address of options.connect ?? []) node.addNode(address);
    return runtime;
  }

  /** A new receiving address of the wallet (saved in the datadir before it is returned). */
  async newAddress(): Promise<string> {
    const address = this.wallet.newAddress();
    if (this.datadir) await saveWallet(this.wallet, join(this.datadir, WALLET_FILE));
    return address;
  }

  /** Mines `count` blocks paying `address` (Core's generatetoaddress); returns their hashes. */
  generate(count: number, address: string): Promise<string[]> {
    const coinbaseScript = addressToScript(address);
    const run = this.#mining.then(async () => {
      const hashes: string[] = [];
      for (let i = 0; i < count; i++) {
        let block: Block | undefined;
        while (!block) {
          const template = createBlockTemplate({
            chain: this.chain,
            mempool: this.mempool,
            coinbaseScript,
            extraNonce: this.#extraNonce++,
          });
          block = mineBlock(template, 1_000_000);
        }
        const status = await this.node.submitBlock(block);
        if (status !== 'connected')
          throw new LedgerError('INVALID_BLOCK', `mined block was not connected (${status})`);
        hashes.push(hashToHex(this.chain.tip.hash));
      }
      return hashes;
    });
    this.#mining = run.catch(() => undefined);
    return run;
  }

  /** Builds, signs, accepts and relays a payment (Core's sendtoaddress); returns the txid. */
  async send(to: string, amount: bigint): Promise<string> {
    const tx: Transaction = this.wallet.createPayment({
      chain: this.chain,
      mempool: this.mempool,
      to,
      amount,
    });
    await this.node.submitTransaction(tx);
    return hashToHex(txid(tx));
  }

  async close(): Promise<void> {
    await this.node.close();
    await this.chain.close();
  }
}

interface WalletFile {
  version: 1;
  keys: string[];
}

async function loadWallet(wallet: Wallet, path: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LedgerError('STORAGE', `cannot read ${path}: ${String(error)}`);
  }
  let parsed: WalletFile;
  try {
    parsed = JSON.parse(text) as WalletFile;
  } catch {
    throw new LedgerError('STORAGE', `${path} is not a peerkit-ledger wallet (not JSON)`);
  }
  if (parsed.version !== 1 || !Array.isArray(parsed.keys))
    throw new LedgerError('STORAGE', `${path} is not a peerkit-ledger wallet`);
  for (const wif of parsed.keys) wallet.importKey(decodeWif(wif));
}

/** Writes the wallet's keys to a temporary file, then renames it over the old one (atomic). */
async function saveWallet(wallet: Wallet, path: string): Promise<void> {
  const keys: string[] = [];
  for (const address of wallet.addresses()) {
    const key = wallet.keyFor(addressToScript(address));
    if (key) keys.push(encodeWif(key));
  }
  const body: WalletFile = { version: 1, keys };
  const tmp = `${path}.tmp`;
  await rm(tmp, { force: true });
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(body, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
