/**
 * @peerkit/ledger/testing: fast-check arbitraries for transactions and blocks (legacy and
 * BIP 144) and for every P2P message, for testing this package's codecs or yours.
 */
export {
  arbBlock,
  arbBlockHeader,
  arbHash,
  arbOutPoint,
  arbScript,
  arbTransaction,
  arbTxIn,
  arbTxOut,
} from './testing/arbitraries';
export {
  arbCompactBlock,
  arbInvVector,
  arbMessage,
  arbNetAddress,
  arbTimedNetAddress,
} from './testing/p2p-arbitraries';
