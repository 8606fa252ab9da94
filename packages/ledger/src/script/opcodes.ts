/**
 * Script opcodes (developer reference, transactions.rst "Opcodes"; Bitcoin Core script/script.h).
 * Only the opcodes this package names in code are listed; the full table is in Core's script.h.
 */
export const OP_0 = 0x00;
export const OP_PUSHDATA1 = 0x4c;
export const OP_PUSHDATA2 = 0x4d;
export const OP_PUSHDATA4 = 0x4e;
export const OP_1NEGATE = 0x4f;
export const OP_1 = 0x51;
export const OP_16 = 0x60;
export const OP_NOP = 0x61;
export const OP_VERIFY = 0x69;
export const OP_RETURN = 0x6a;
export const OP_DROP = 0x75;
export const OP_DUP = 0x76;
export const OP_EQUAL = 0x87;
export const OP_EQUALVERIFY = 0x88;
export const OP_RIPEMD160 = 0xa6;
export const OP_SHA256 = 0xa8;
export const OP_HASH160 = 0xa9;
export const OP_HASH256 = 0xaa;
export const OP_CODESEPARATOR = 0xab;
export const OP_CHECKSIG = 0xac;
export const OP_CHECKSIGVERIFY = 0xad;

/** Signature hash types (developer reference, devguide/transactions.rst "Signature Hash Types"). */
export const SIGHASH_ALL = 0x01;
export const SIGHASH_NONE = 0x02;
export const SIGHASH_SINGLE = 0x03;
export const SIGHASH_ANYONECANPAY = 0x80;
