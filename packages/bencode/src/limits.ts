/** The limits of decoding and encoding (all options with safe defaults), and their checks. */

export const DEFAULT_MAX_DEPTH = 64;
/**
 * The decoder and encoder recurse once per nesting level; this bound on `maxDepth` keeps them
 * well inside the JS stack (about 2,500 levels fit in an unoptimised run of Node 20).
 */
export const MAX_DEPTH_LIMIT = 1024;
export const DEFAULT_MAX_INTEGER_DIGITS = 1024;

export function checkDepthOption(maxDepth: number): number {
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > MAX_DEPTH_LIMIT) {
    throw new RangeError(`maxDepth must be an integer in [0, ${MAX_DEPTH_LIMIT}], got ${maxDepth}`);
  }
  return maxDepth;
}

export function checkCountOption(name: string, value: number): number {
  if (!(value >= 0) || (!Number.isInteger(value) && value !== Number.POSITIVE_INFINITY)) {
    throw new RangeError(`${name} must be a non-negative integer or Infinity, got ${value}`);
  }
  return value;
}

/** True for V8's "Maximum call stack size exceeded". */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.includes('call stack');
}
