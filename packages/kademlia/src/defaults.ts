/**
 * The one home of the DHT's tuning defaults. Every module that needs one of these numbers
 * imports it from here, so the node, the lookup, the routing table and the RPC layer agree.
 */

/** Bucket size and the size of a lookup's result (BEP 5: "K is currently 8"). */
export const DEFAULT_K = 8;

/** Lookup parallelism: queries in flight at once (the Kademlia paper's alpha, 3). */
export const DEFAULT_ALPHA = 3;

/**
 * How long one query waits for its answer before the RPC layer retries it (per try), and how
 * long a lookup waits before it stops counting a silent node against `alpha`.
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 1000;

/** How often the node looks for stale buckets to refresh and prunes its store (60 s). */
export const DEFAULT_REFRESH_CHECK_MS = 60_000;
