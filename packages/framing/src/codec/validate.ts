/**
 * Validators compiled once per schema.
 *
 * The schema is turned into the source of one plain JavaScript function (like ajv or
 * fast-json-stringify do) and built with `new Function`: field names become constant property
 * reads (`value["room"]`), bounds become literals, and there is no per-field call or loop over
 * field descriptors. The success path allocates nothing and is a straight run of `typeof` and
 * range checks; only a failure calls out, to record the code, a message and the path.
 *
 * What goes into the source is either generated here or passed through `JSON.stringify`
 * (names, enum and literal values) or `String()` of a checked number, never raw schema text.
 */
import { MessageError, type MessageErrorCode } from '../errors';
import type { AnyObjectField, Field } from './schema';

/** Where a failed check leaves its details. One per codec; validation is synchronous. */
export class Failure {
  code: MessageErrorCode = 'WRONG_TYPE';
  message = '';
  path = '';

  toError(): MessageError {
    return new MessageError(this.code, this.message, this.path);
  }
}

/**
 * `entries`: for a decoded message whose root is a map, the entry count of that map's msgpack
 * header (a shortcut for the unknown-key check); leave it out otherwise.
 */
export type Check = (value: unknown, entries?: number) => boolean;

/** A plain object: what msgpackr makes of a map, and what `encode` accepts for one. */
function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'nil';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `a string of length ${value.length}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

/** The functions the generated code calls (only `isPlainObject` on the success path). */
interface Helpers {
  isPlainObject: (value: unknown) => boolean;
  fail: (code: MessageErrorCode, expected: string, path: string, value: unknown) => false;
  unknownField: (value: Record<string, unknown>, names: readonly string[], path: string) => boolean;
}

/** Builds the source of `function check(v)`; see the module comment. */
class Generator {
  private next = 0;
  /** Strings the generated code refers to by index (messages, name lists). */
  readonly constants: unknown[] = [];

  name(prefix: string): string {
    return `${prefix}${this.next++}`;
  }

  constant(value: unknown): string {
    this.constants.push(value);
    return `k[${this.constants.length - 1}]`;
  }

  /** `return fail(...)` for `code`, evaluated only on failure. */
  failure(code: MessageErrorCode, expected: string, v: string, path: string): string {
    return `return fail(${JSON.stringify(code)}, ${this.constant(expected)}, ${path}, ${v});`;
  }

  /** Statements checking the value in variable `v`; `path` is a JS expression for its path. */
  field(field: Field, v: string, path: string): string {
    switch (field.kind) {
      case 'uint':
      case 'int':
      case 'float': {
        const what =
          field.kind === 'uint'
            ? 'an unsigned integer'
            : field.kind === 'int'
              ? 'an integer'
              : 'a number';
        const inRange =
          field.kind === 'float'
            ? `${v} >= ${String(field.min)} && ${v} <= ${String(field.max)}`
            : `Number.isInteger(${v}) && ${v} >= ${String(field.min)} && ${v} <= ${String(field.max)}`;
        return (
          `if (typeof ${v} !== "number") ${this.failure('WRONG_TYPE', what, v, path)}\n` +
          `if (!(${inRange})) ${this.failure('OUT_OF_RANGE', `${what} in [${field.min}, ${field.max}]`, v, path)}\n`
        );
      }
      case 'bool':
        return `if (typeof ${v} !== "boolean") ${this.failure('WRONG_TYPE', 'a boolean', v, path)}\n`;
      case 'string':
        return (
          `if (typeof ${v} !== "string") ${this.failure('WRONG_TYPE', 'a string', v, path)}\n` +
          this.length(`${v}.length`, field.minLength, field.maxLength, 'string', v, path)
        );
      case 'bytes':
        return (
          `if (!(${v} instanceof Uint8Array)) ${this.failure('WRONG_TYPE', 'bytes', v, path)}\n` +
          this.length(`${v}.length`, field.minLength, field.maxLength, 'bytes', v, path)
        );
      case 'literal':
        return `if (${v} !== ${JSON.stringify(field.value)}) ${this.failure('BAD_VALUE', JSON.stringify(field.value), v, path)}\n`;
      case 'enum': {
        const test = field.values.map((value) => `${v} !== ${JSON.stringify(value)}`).join(' && ');
        return `if (${test}) ${this.failure('BAD_VALUE', `one of ${field.values.join(', ')}`, v, path)}\n`;
      }
      case 'array': {
        const length = this.name('n');
        const i = this.name('i');
        const item = this.name('v');
        return (
          `if (!Array.isArray(${v})) ${this.failure('WRONG_TYPE', 'an array', v, path)}\n` +
          `const ${length} = ${v}.length;\n` +
          this.length(length, field.minLength, field.maxLength, 'array', v, path) +
          `for (let ${i} = 0; ${i} < ${length}; ${i}++) {\n` +
          `const ${item} = ${v}[${i}];\n` +
          this.field(field.item, item, `${path} + "[" + ${i} + "]"`) +
          '}\n'
        );
      }
      case 'optional':
        // Absence is handled by the enclosing object; a value that is present must be valid.
        return this.field(field.inner, v, path);
      case 'object':
        return (
          `if (!isPlainObject(${v})) ${this.failure('WRONG_TYPE', 'a map', v, path)}\n` +
          this.objectBody(field, v, path, undefined)
        );
      case 'union': {
        const tag = this.name('t');
        const tagPath = join(path, field.tag);
        let code =
          `if (!isPlainObject(${v})) ${this.failure('WRONG_TYPE', 'a map', v, path)}\n` +
          `const ${tag} = ${v}[${JSON.stringify(field.tag)}];\n`;
        for (const [name, variant] of Object.entries(field.variants)) {
          code += `if (${tag} === ${JSON.stringify(name)}) {\n${this.objectBody(variant, v, path, field.tag)}} else `;
        }
        const names = Object.keys(field.variants).join(', ');
        return (
          `${code}if (${tag} === undefined) ${this.failure('MISSING_FIELD', 'the union tag', tag, tagPath)}\n` +
          `else ${this.failure('UNKNOWN_VARIANT', `one of ${names}`, tag, tagPath)}\n`
        );
      }
    }
  }

  private length(
    length: string,
    min: number,
    max: number,
    what: string,
    v: string,
    path: string,
  ): string {
    let code = '';
    if (max < Number.MAX_SAFE_INTEGER) {
      code += `if (${length} > ${max}) ${this.failure('TOO_LONG', `${what} of length at most ${max}`, v, path)}\n`;
    }
    if (min > 0) {
      code += `if (${length} < ${min}) ${this.failure('TOO_SHORT', `${what} of length at least ${min}`, v, path)}\n`;
    }
    return code;
  }

  /**
   * A map with exactly the declared fields (plus the union `tag`, checked by the caller).
   * A field whose value is `undefined` counts as absent, so `{ note: undefined }` is `{}`.
   */
  private objectBody(
    field: AnyObjectField,
    v: string,
    path: string,
    tag: string | undefined,
  ): string {
    const present = this.name('p');
    let code = `let ${present} = ${tag === undefined ? 0 : 1};\n`;
    for (const [name, f] of Object.entries(field.fields)) {
      const value = this.name('v');
      const fieldPath = join(path, name);
      code += `const ${value} = ${v}[${JSON.stringify(name)}];\n`;
      if (f.kind === 'optional') {
        code += `if (${value} !== undefined) {\n${this.field(f, value, fieldPath)}${present}++;\n}\n`;
      } else {
        code +=
          `if (${value} === undefined) ${this.failure('MISSING_FIELD', 'a required field', value, fieldPath)}\n` +
          `${this.field(f, value, fieldPath)}${present}++;\n`;
      }
    }
    // Any key beyond the declared ones is an unknown field. Fast path: as many own keys as
    // declared fields present means there is no other key. Otherwise count the keys whose
    // value is not `undefined` (absent), and name the unknown one if there is one.
    const keys = this.name('c');
    const key = this.name('key');
    const names = [...Object.keys(field.fields), ...(tag === undefined ? [] : [tag])];
    // At the root, `entries` is the map's entry count from the msgpack header (decode only):
    // as many entries as fields present proves it without listing the keys.
    const fast = path === '""' ? `entries !== ${present} && ` : '';
    code +=
      `if (${fast}Object.keys(${v}).length !== ${present}) {\n` +
      `let ${keys} = 0;\n` +
      `for (const ${key} in ${v}) if (${v}[${key}] !== undefined) ${keys}++;\n` +
      `if (${keys} !== ${present} && !unknownField(${v}, ${this.constant(names)}, ${path})) return false;\n` +
      '}\n';
    return code;
  }
}

/** `path + "." + name` as a JS expression (names are JSON-quoted). */
function join(path: string, name: string): string {
  return path === '""' ? JSON.stringify(name) : `${path} + ${JSON.stringify(`.${name}`)}`;
}

export function compile(field: Field, failure: Failure): Check {
  const generator = new Generator();
  const body = `${generator.field(field, 'v', '""')}return true;`;
  const helpers: Helpers = {
    isPlainObject,
    fail(code, expected, path, value) {
      failure.code = code;
      failure.message = `expected ${expected}, got ${describe(value)}`;
      failure.path = path;
      return false;
    },
    unknownField(value, names, path) {
      for (const key in value) {
        if (value[key] !== undefined && !names.includes(key)) {
          failure.code = 'UNKNOWN_FIELD';
          failure.message = 'field is not declared by the schema';
          failure.path = path === '' ? key : `${path}.${key}`;
          return false;
        }
      }
      return true;
    },
  };
  const factory = new Function(
    'k',
    'helpers',
    `"use strict";\nconst { isPlainObject, fail, unknownField } = helpers;\nreturn function check(v, entries) {\n${body}\n};`,
  ) as (constants: unknown[], helpers: Helpers) => Check;
  return factory(generator.constants, helpers);
}
