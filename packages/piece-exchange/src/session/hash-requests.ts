/**
 * The BEP 52 hash requests one peer sends us, answered within limits: piece-layer (and higher)
 * hashes from our piece layers, base-layer (16 KiB block) hashes computed from the pieces on disk.
 * "Hash requests MUST be answered with either a 'hashes' or 'hash reject'", and "should be
 * subject to the same rate limiting policy as piece requests": past the budget a 48-byte request
 * gets a 48-byte reject, never 16 KiB of hashes.
 */
import { answerHashRequest } from '../v2/hash-exchange';
import { answerLeafHashes, planLeafHashes } from '../v2/leaf-hashes';
import { encodeHashMessage, type HashRequestMessage } from '../wire/hashes';
import { BLOCK_LENGTH, type RequestMessage } from '../wire/messages';
import type { PeerOutput, PeerSessionHost } from './peer-host';

/**
 * Hashes answered per peer between two ticks (BEP 52 hash requests): 8 requests of 512, a piece
 * layer of 4096 pieces per second; the rest are rejected until the next tick. A base-layer
 * request costs the blocks it hashes (its span, see v2/leaf-hashes.ts).
 */
export const HASH_ANSWERS_PER_TICK = 4096;

/**
 * Base-layer hash requests computed from disk at once for one peer; more wait in a queue (when
 * BEP 52 forbids rejecting them) or are rejected.
 */
export const MAX_LEAF_HASH_READS = 2;

export interface HashRequestsIo {
  send(bytes: Uint8Array): void;
  closed(): boolean;
  readonly host: Pick<PeerSessionHost, 'content' | 'limits'>;
  readonly out: Pick<PeerOutput, 'readPieces'>;
}

export class HashRequests {
  readonly #io: HashRequestsIo;
  /** Hashes we may still send before the next tick (`HASH_ANSWERS_PER_TICK`). */
  #budget = HASH_ANSWERS_PER_TICK;
  /** Base-layer requests being computed, and those waiting (`MAX_LEAF_HASH_READS`). */
  #reads = 0;
  readonly #queue: (() => void)[] = [];

  constructor(io: HashRequestsIo) {
    this.#io = io;
  }

  /** The budget is renewed on every tick. */
  tick(): void {
    this.#budget = HASH_ANSWERS_PER_TICK;
  }

  /** Answers `request`; `served` is the block request the peer sent just before, if we serve it. */
  answer(request: HashRequestMessage, served: RequestMessage | undefined): void {
    // Below the piece layer (with 16 KiB pieces the piece layer is the base layer: no disk).
    if (request.baseLayer === 0 && (this.#io.host.content?.pieceLayers?.pieceLayer ?? 0) > 0) {
      this.#answerLeaves(request, served);
      return;
    }
    const layers = this.#budget >= request.length ? this.#io.host.content?.pieceLayers : undefined;
    const answer = answerHashRequest(layers, request);
    if (answer.type === 'hashes') this.#budget -= answer.length;
    this.#io.send(encodeHashMessage(answer));
  }

  /**
   * A base-layer request: answered from the pieces on disk when they are ours. BEP 52: "Clients
   * MUST NOT reject a hash request with a base layer of zero if it immediately follows a request
   * for one of the chunks in the requested range and the client services the chunk request with a
   * piece message": such a request waits for a free read; any other is rejected past the budget
   * or `MAX_LEAF_HASH_READS` reads under way.
   */
  #answerLeaves(request: HashRequestMessage, served: RequestMessage | undefined): void {
    const content = this.#io.host.content;
    const layers = content?.pieceLayers;
    const reject = () => this.#io.send(encodeHashMessage({ ...request, type: 'hashReject' }));
    const plan = layers && content && planLeafHashes(layers, content.have, request);
    const read = this.#io.out.readPieces?.bind(this.#io.out);
    if (plan === undefined || layers === undefined || read === undefined) {
      reject();
      return;
    }
    const perPiece = 2 ** layers.pieceLayer;
    const leaf =
      served === undefined || !plan.pieces.includes(served.index)
        ? -1
        : (served.index - plan.file.offset / layers.pieceLength) * perPiece +
          served.begin / BLOCK_LENGTH;
    const owed = leaf >= request.index && leaf < request.index + request.length;
    const busy = this.#reads >= MAX_LEAF_HASH_READS;
    if (!owed && (busy || this.#budget < plan.spanLeaves)) {
      reject();
      return;
    }
    // Owed answers are bounded by the block requests they follow (`maxPeerRequests` queued).
    if (busy && this.#queue.length >= this.#io.host.limits.maxPeerRequests) {
      reject();
      return;
    }
    this.#budget -= plan.spanLeaves;
    const start = () => {
      this.#reads++;
      read(plan.pieces, (data) => {
        this.#reads--;
        if (this.#io.closed()) return;
        const answer = data && answerLeafHashes(layers, request, plan, data);
        if (answer !== undefined) this.#io.send(encodeHashMessage(answer));
        else reject();
        this.#queue.shift()?.();
      });
    };
    if (busy) this.#queue.push(start);
    else start();
  }
}
