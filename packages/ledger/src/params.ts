/**
 * Chain parameters. peerkit's ledger runs regtest only: the parameters of Bitcoin Core's
 * CRegTestParams (src/kernel/chainparams.cpp): magic fa bf b5 da, port 18444, the easiest
 * target (powLimit 7fff…ff, nBits 0x207fffff), no retargeting, subsidy halving every 150
 * blocks, BIP 34/65/66 active from height 1, segwit from height 0, address prefixes 111/196/239.
 */
import { fromHex } from './hash';
import { type Block, blockHash, merkleRoot } from './primitives/block';
import { type Transaction, txid } from './primitives/transaction';

export interface ChainParams {
  name: 'regtest';
  /** The message start ("magic") of every P2P message. */
  magic: Uint8Array;
  defaultPort: number;
  genesis: Block;
  genesisHash: Uint8Array;
  /** The largest allowed target (consensus.powLimit). */
  powLimit: bigint;
  /** powLimit in compact form: the nBits of every regtest block. */
  powLimitBits: number;
  /** fPowNoRetargeting: the target never changes. */
  noRetargeting: boolean;
  /** Blocks between subsidy halvings (150 on regtest). */
  subsidyHalvingInterval: number;
  /** Confirmations before a coinbase output may be spent (COINBASE_MATURITY). */
  coinbaseMaturity: number;
  /** Height from which the coinbase must start with the height (BIP 34) and version ≥ 2. */
  bip34Height: number;
  /** Height from which signatures must be strict DER (BIP 66) and version ≥ 3. */
  bip66Height: number;
  /** Height from which version ≥ 4 is required (BIP 65; CHECKLOCKTIMEVERIFY itself is outside the subset). */
  bip65Height: number;
  /** Height from which segwit rules apply (0 on regtest). */
  segwitHeight: number;
  /** Base58Check version byte of P2PKH addresses (111 on regtest: addresses start with m or n). */
  pubkeyHashPrefix: number;
  /** Base58Check version byte of P2SH addresses (196 on regtest). */
  scriptHashPrefix: number;
  /** Base58Check version byte of WIF private keys (239 on regtest). */
  secretKeyPrefix: number;
  /** Bech32 human-readable part (not used by this package; recorded for completeness). */
  bech32Hrp: string;
  /** MAX_BLOCK_WEIGHT (BIP 141). */
  maxBlockWeight: number;
  /** MAX_MONEY: no amount may exceed 21 million coins. */
  maxMoney: bigint;
  /** The initial block subsidy (50 coins). */
  initialSubsidy: bigint;
  /** MAX_FUTURE_BLOCK_TIME: a header's time may be at most this far ahead of network time (s). */
  maxFutureBlockTime: number;
  /** A header's time must exceed the median of this many previous blocks' times. */
  medianTimeSpan: number;
  /** The target block interval (seconds); used only for documentation and the miner. */
  targetSpacing: number;
}

/** COIN: satoshis per bitcoin. */
export const COIN = 100_000_000n;

/**
 * The genesis coinbase of every Bitcoin network (chainparams.cpp CreateGenesisBlock): a
 * scriptSig pushing 486604799, 4 and the Times headline; one output of 50 coins to a P2PK script.
 */
function genesisCoinbase(): Transaction {
  const headline = new TextEncoder().encode(
    'The Times 03/Jan/2009 Chancellor on brink of second bailout for banks',
  );
  const scriptSig = new Uint8Array([
    0x04,
    0xff,
    0xff,
    0x00,
    0x1d,
    0x01,
    0x04,
    headline.length,
    ...headline,
  ]);
  const pubkey = fromHex(
    '04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f',
  );
  const scriptPubKey = new Uint8Array([0x41, ...pubkey, 0xac]);
  return {
    version: 1,
    inputs: [
      {
        prevout: { txid: new Uint8Array(32), index: 0xffffffff },
        scriptSig,
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    outputs: [{ value: 50n * COIN, scriptPubKey }],
    lockTime: 0,
  };
}

function regtestGenesis(): Block {
  const coinbase = genesisCoinbase();
  return {
    header: {
      version: 1,
      prevBlock: new Uint8Array(32),
      merkleRoot: merkleRoot([txid(coinbase)]).root,
      time: 1296688602,
      bits: 0x207fffff,
      nonce: 2,
    },
    transactions: [coinbase],
  };
}

const genesis = regtestGenesis();

/** Bitcoin Core's regtest (CRegTestParams). */
export const REGTEST: ChainParams = {
  name: 'regtest',
  magic: new Uint8Array([0xfa, 0xbf, 0xb5, 0xda]),
  defaultPort: 18444,
  genesis,
  genesisHash: blockHash(genesis.header),
  powLimit: 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
  powLimitBits: 0x207fffff,
  noRetargeting: true,
  subsidyHalvingInterval: 150,
  coinbaseMaturity: 100,
  bip34Height: 1,
  bip66Height: 1,
  bip65Height: 1,
  segwitHeight: 0,
  pubkeyHashPrefix: 111,
  scriptHashPrefix: 196,
  secretKeyPrefix: 239,
  bech32Hrp: 'bcrt',
  maxBlockWeight: 4_000_000,
  maxMoney: 21_000_000n * COIN,
  initialSubsidy: 50n * COIN,
  maxFutureBlockTime: 2 * 60 * 60,
  medianTimeSpan: 11,
  targetSpacing: 10 * 60,
};
