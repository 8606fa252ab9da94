/**
 * Message shapes: a small schema language whose TypeScript types are inferred.
 *
 * ```ts
 * const Chat = t.object({ room: t.string({ maxLength: 64 }), body: t.bytes({ maxLength: 4096 }) });
 * type Chat = Infer<typeof Chat>; // { room: string; body: Uint8Array }
 * ```
 *
 * Every field maps to one msgpack type (see the README's wire format). Arrays must declare a
 * `maxLength`, so every schema has a finite largest message: the decoder uses that bound (and
 * the schema's nesting depth) to reject oversized input before msgpackr builds any object.
 */

interface FieldBase<T> {
  /** Phantom member carrying the field's TypeScript type; never present at runtime. */
  readonly '~output'?: T;
}

export interface UintField extends FieldBase<number> {
  readonly kind: 'uint';
  readonly min: number;
  readonly max: number;
}
export interface IntField extends FieldBase<number> {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
}
export interface FloatField extends FieldBase<number> {
  readonly kind: 'float';
  readonly min: number;
  readonly max: number;
}
export interface BoolField extends FieldBase<boolean> {
  readonly kind: 'bool';
}
export interface StringField extends FieldBase<string> {
  readonly kind: 'string';
  /** Bounds on the length in UTF-16 code units (`string.length`). */
  readonly minLength: number;
  readonly maxLength: number;
}
export interface BytesField extends FieldBase<Uint8Array> {
  readonly kind: 'bytes';
  readonly minLength: number;
  readonly maxLength: number;
}
export type LiteralValue = string | number | boolean;
export interface LiteralField<V extends LiteralValue> extends FieldBase<V> {
  readonly kind: 'literal';
  readonly value: V;
}
export interface EnumField<V extends string> extends FieldBase<V> {
  readonly kind: 'enum';
  readonly values: readonly V[];
}
export interface ArrayField<I extends Field> extends FieldBase<Infer<I>[]> {
  readonly kind: 'array';
  readonly item: I;
  readonly minLength: number;
  readonly maxLength: number;
}
/** A field that may be absent (as an object field); anywhere else it is the inner field. */
export interface OptionalField<I extends Field> extends FieldBase<Infer<I>> {
  readonly kind: 'optional';
  readonly inner: I;
}
export type Fields = { readonly [key: string]: Field };
export interface ObjectField<S extends Fields> extends FieldBase<InferFields<S>> {
  readonly kind: 'object';
  readonly fields: S;
}
export type Variants = { readonly [tag: string]: AnyObjectField };
/** A tagged union: a map whose `tag` field names the variant, e.g. `{ type: 'publish', ... }`. */
export interface UnionField<K extends string, V extends Variants>
  extends FieldBase<InferUnion<K, V>> {
  readonly kind: 'union';
  readonly tag: K;
  readonly variants: V;
}

/*
 * The shapes of the generic fields with their TypeScript type erased: every concrete
 * `ArrayField<...>`, `ObjectField<...>` etc. is assignable to them, so `Field` covers them all.
 */
export interface AnyArrayField extends FieldBase<unknown> {
  readonly kind: 'array';
  readonly item: Field;
  readonly minLength: number;
  readonly maxLength: number;
}
export interface AnyOptionalField extends FieldBase<unknown> {
  readonly kind: 'optional';
  readonly inner: Field;
}
export interface AnyObjectField extends FieldBase<unknown> {
  readonly kind: 'object';
  readonly fields: Fields;
}
export interface AnyUnionField extends FieldBase<unknown> {
  readonly kind: 'union';
  readonly tag: string;
  readonly variants: Variants;
}

/** Any field of a schema. */
export type Field =
  | UintField
  | IntField
  | FloatField
  | BoolField
  | StringField
  | BytesField
  | LiteralField<LiteralValue>
  | EnumField<string>
  | AnyArrayField
  | AnyOptionalField
  | AnyObjectField
  | AnyUnionField;

/** The TypeScript type of the values a field accepts. */
export type Infer<F> = F extends FieldBase<infer T> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S extends Fields> = {
  [K in keyof S]: S[K] extends AnyOptionalField ? K : never;
}[keyof S];
type RequiredKeys<S extends Fields> = Exclude<keyof S, OptionalKeys<S>>;

export type InferFields<S extends Fields> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

export type InferUnion<K extends string, V extends Variants> = {
  [T in keyof V & string]: Simplify<{ [P in K]: T } & Infer<V[T]>>;
}[keyof V & string];

export interface NumberOptions {
  min?: number;
  max?: number;
}
export interface LengthOptions {
  minLength?: number;
  maxLength?: number;
}
export interface ArrayOptions {
  minLength?: number;
  /** Required: every array is bounded. */
  maxLength: number;
}

function checkBound(what: string, value: number, integer: boolean): number {
  if (Number.isNaN(value) || (integer && !Number.isSafeInteger(value))) {
    throw new TypeError(`${what} must be ${integer ? 'a safe integer' : 'a number'}, got ${value}`);
  }
  return value;
}

function range(
  kind: string,
  options: NumberOptions | undefined,
  lo: number,
  hi: number,
  integer: boolean,
) {
  const min = checkBound(`${kind} min`, options?.min ?? lo, integer);
  const max = checkBound(`${kind} max`, options?.max ?? hi, integer);
  if (min < lo || max > hi || min > max) {
    throw new TypeError(`${kind} range [${min}, ${max}] must lie within [${lo}, ${hi}]`);
  }
  return { min, max };
}

function lengths(kind: string, options: LengthOptions | undefined) {
  return range(
    `${kind} length`,
    { min: options?.minLength, max: options?.maxLength },
    0,
    Number.MAX_SAFE_INTEGER,
    true,
  );
}

/** Property names a plain object inherits; a field with such a name could be confused with them. */
function checkFieldName(name: string): void {
  if (name in Object.prototype || name === '__proto__') {
    throw new TypeError(`field name ${name} clashes with an Object.prototype property`);
  }
}

/** The schema builders. */
export const t = {
  /** Unsigned integer in [min, max], default [0, 2^53-1]. */
  uint(options?: NumberOptions): UintField {
    const { min, max } = range('uint', options, 0, Number.MAX_SAFE_INTEGER, true);
    return { kind: 'uint', min, max };
  },
  /** Signed integer in [min, max], default the safe integers. */
  int(options?: NumberOptions): IntField {
    const { min, max } = range(
      'int',
      options,
      Number.MIN_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER,
      true,
    );
    return { kind: 'int', min, max };
  },
  /** Finite number (float 64 on the wire unless integral). */
  float(options?: NumberOptions): FloatField {
    const { min, max } = range('float', options, -Number.MAX_VALUE, Number.MAX_VALUE, false);
    return { kind: 'float', min, max };
  },
  bool(): BoolField {
    return { kind: 'bool' };
  },
  /** UTF-8 string on the wire; lengths count UTF-16 code units. */
  string(options?: LengthOptions): StringField {
    const { min, max } = lengths('string', options);
    return { kind: 'string', minLength: min, maxLength: max };
  },
  /** Byte string (msgpack bin). `length` fixes the size (ids, hashes, keys). */
  bytes(options?: LengthOptions & { length?: number }): BytesField {
    const fixed = options?.length;
    const { min, max } = lengths(
      'bytes',
      fixed === undefined ? options : { minLength: fixed, maxLength: fixed },
    );
    return { kind: 'bytes', minLength: min, maxLength: max };
  },
  literal<const V extends LiteralValue>(value: V): LiteralField<V> {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError(`a literal number must be finite, got ${value}`);
    }
    return { kind: 'literal', value };
  },
  enum<const V extends string>(values: readonly [V, ...V[]]): EnumField<V> {
    return { kind: 'enum', values: [...values] };
  },
  array<I extends Field>(item: I, options: ArrayOptions): ArrayField<I> {
    const { min, max } = lengths('array', options);
    if (options?.maxLength === undefined) throw new TypeError('array needs a maxLength');
    return { kind: 'array', item, minLength: min, maxLength: max };
  },
  optional<I extends Field>(inner: I): OptionalField<I> {
    return { kind: 'optional', inner };
  },
  object<const S extends Fields>(fields: S): ObjectField<S> {
    for (const name of Object.keys(fields)) checkFieldName(name);
    return { kind: 'object', fields };
  },
  /**
   * A tagged union: `t.union('type', { ping: t.object({...}), pong: t.object({...}) })` accepts
   * `{ type: 'ping', ... }` or `{ type: 'pong', ... }`. The variants must not declare the tag.
   */
  union<const K extends string, const V extends Variants>(tag: K, variants: V): UnionField<K, V> {
    checkFieldName(tag);
    if (Object.keys(variants).length === 0) throw new TypeError('union needs at least one variant');
    for (const [name, variant] of Object.entries(variants)) {
      if (Object.hasOwn(variant.fields, tag)) {
        throw new TypeError(`variant ${name} must not declare the tag field ${tag}`);
      }
    }
    return { kind: 'union', tag, variants };
  },
};

/** Largest nesting depth of containers (maps, arrays) in a valid message of `field`. */
export function schemaDepth(field: Field): number {
  switch (field.kind) {
    case 'array':
      return 1 + schemaDepth(field.item);
    case 'optional':
      return schemaDepth(field.inner);
    case 'object': {
      let deepest = 0;
      for (const f of Object.values(field.fields)) deepest = Math.max(deepest, schemaDepth(f));
      return 1 + deepest;
    }
    case 'union': {
      let deepest = 1;
      for (const v of Object.values(field.variants)) deepest = Math.max(deepest, schemaDepth(v));
      return deepest;
    }
    default:
      return 0;
  }
}

/** True when a valid message of `field` can hold a `bytes` value (decoded as a view). */
export function schemaHasBytes(field: Field): boolean {
  switch (field.kind) {
    case 'bytes':
      return true;
    case 'array':
      return schemaHasBytes(field.item);
    case 'optional':
      return schemaHasBytes(field.inner);
    case 'object':
      return Object.values(field.fields).some(schemaHasBytes);
    case 'union':
      return Object.values(field.variants).some(schemaHasBytes);
    default:
      return false;
  }
}

/**
 * Largest number of msgpack values (every scalar, container and map key counts one) in a valid
 * message of `field`. May be `Infinity` for huge nested arrays; the byte limit still applies.
 */
export function schemaMaxValues(field: Field): number {
  switch (field.kind) {
    case 'array':
      return 1 + field.maxLength * schemaMaxValues(field.item);
    case 'optional':
      return schemaMaxValues(field.inner);
    case 'object': {
      let n = 1;
      for (const f of Object.values(field.fields)) n += 1 + schemaMaxValues(f);
      return n;
    }
    case 'union': {
      let largest = 0;
      for (const v of Object.values(field.variants))
        largest = Math.max(largest, schemaMaxValues(v));
      return largest + 2;
    }
    default:
      return 1;
  }
}
