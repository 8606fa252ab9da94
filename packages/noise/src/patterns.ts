/**
 * Handshake patterns (spec section 7): the one-way patterns of 7.4 and the fundamental
 * interactive patterns of 7.5. Messages alternate, the initiator sending the first (7.1).
 */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';
/** Pre-messages of the patterns implemented here only carry static keys. */
export type PreMessageToken = 's';

export interface HandshakePattern {
  /** The pattern's name as it appears in the protocol name, e.g. `XX`. */
  readonly name: string;
  /** Keys the initiator's side knows before the handshake (`-> s` in the pre-message). */
  readonly initiatorPreMessage: readonly PreMessageToken[];
  /** Keys the initiator knows of the responder before the handshake (`<- s`). */
  readonly responderPreMessage: readonly PreMessageToken[];
  /** Message patterns; even indexes are sent by the initiator, odd ones by the responder. */
  readonly messages: readonly (readonly Token[])[];
}

function pattern(
  name: string,
  initiatorPreMessage: PreMessageToken[],
  responderPreMessage: PreMessageToken[],
  messages: Token[][],
): HandshakePattern {
  return { name, initiatorPreMessage, responderPreMessage, messages };
}

export const HANDSHAKE_PATTERNS = {
  // 7.4 one-way patterns
  N: pattern('N', [], ['s'], [['e', 'es']]),
  K: pattern('K', ['s'], ['s'], [['e', 'es', 'ss']]),
  X: pattern('X', [], ['s'], [['e', 'es', 's', 'ss']]),
  // 7.5 fundamental interactive patterns
  NN: pattern('NN', [], [], [['e'], ['e', 'ee']]),
  NK: pattern(
    'NK',
    [],
    ['s'],
    [
      ['e', 'es'],
      ['e', 'ee'],
    ],
  ),
  NX: pattern('NX', [], [], [['e'], ['e', 'ee', 's', 'es']]),
  KN: pattern('KN', ['s'], [], [['e'], ['e', 'ee', 'se']]),
  KK: pattern(
    'KK',
    ['s'],
    ['s'],
    [
      ['e', 'es', 'ss'],
      ['e', 'ee', 'se'],
    ],
  ),
  KX: pattern('KX', ['s'], [], [['e'], ['e', 'ee', 'se', 's', 'es']]),
  XN: pattern('XN', [], [], [['e'], ['e', 'ee'], ['s', 'se']]),
  XK: pattern(
    'XK',
    [],
    ['s'],
    [
      ['e', 'es'],
      ['e', 'ee'],
      ['s', 'se'],
    ],
  ),
  XX: pattern('XX', [], [], [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]),
  IN: pattern(
    'IN',
    [],
    [],
    [
      ['e', 's'],
      ['e', 'ee', 'se'],
    ],
  ),
  IK: pattern(
    'IK',
    [],
    ['s'],
    [
      ['e', 'es', 's', 'ss'],
      ['e', 'ee', 'se'],
    ],
  ),
  IX: pattern(
    'IX',
    [],
    [],
    [
      ['e', 's'],
      ['e', 'ee', 'se', 's', 'es'],
    ],
  ),
} as const satisfies Record<string, HandshakePattern>;

export type HandshakePatternName = keyof typeof HANDSHAKE_PATTERNS;

/** True for the one-way patterns of 7.4: only the initiator ever sends. */
export function isOneWay(p: HandshakePattern): boolean {
  return p.messages.length === 1;
}

/** `Noise_<pattern>_25519_ChaChaPoly_SHA256` (section 8). */
export function protocolName(p: HandshakePattern): string {
  return `Noise_${p.name}_25519_ChaChaPoly_SHA256`;
}
