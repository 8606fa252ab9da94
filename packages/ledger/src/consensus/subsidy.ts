/**
 * The block subsidy (Core validation.cpp GetBlockSubsidy): 50 coins, halved every
 * `subsidyHalvingInterval` blocks (150 on regtest), zero after 64 halvings.
 */
import type { ChainParams } from '../params';

export function blockSubsidy(height: number, params: ChainParams): bigint {
  const halvings = Math.floor(height / params.subsidyHalvingInterval);
  if (halvings >= 64) return 0n;
  return params.initialSubsidy >> BigInt(halvings);
}
