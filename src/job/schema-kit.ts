// A small schema toolkit over the `yaml` package's document nodes. It exists so that the job schema
// (schema.ts) can be written once, as data, and yield three things from that one place: the
// validation (collecting ALL errors with their line/column), the defaulting (a value absent from
// the user's file is taken from the defaults document, itself validated by the same schema), and
// the TypeScript type of the result (`Infer<typeof schema>`).
import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import { JobFieldError } from './errors';

/** A YAML document being read: its file name and line counter (for positions). */
export interface Source {
  readonly file: string;
  readonly lines: LineCounter;
}

/** A value in one of the documents: its node (null for an empty value) and where it is. */
export interface At {
  readonly src: Source;
  readonly node: Node | null;
  /** Offset used for error positions: the node's start, or the key of the pair that holds it. */
  readonly offset: number;
  /** Start of the key whose value this is: errors about a whole block (wrong kind, missing field) point there. */
  readonly keyOffset?: number;
}

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export class Reporter {
  readonly errors: JobFieldError[] = [];
  report(src: Source, offset: number, field: string, expected: string, found: string): void {
    const { line, col } = src.lines.linePos(offset);
    this.errors.push(new JobFieldError(src.file, line, col, field, expected, found));
  }
}

export interface Schema<T> {
  /** What a valid value looks like, for error messages ("an integer ≥ 1"). */
  readonly expected: string;
  /** Validates `user` (or, when absent, `defaults`); mappings merge the two field by field. */
  read(user: At | undefined, defaults: At | undefined, path: string, r: Reporter, missingAt?: At): T | Invalid;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** How a node is described in "found ...". */
export function describe(node: Node | null): string {
  if (node === null) return 'nothing (empty value)';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return `"${v}" (a string)`;
    if (typeof v === 'number') return `${v} (a number)`;
    if (typeof v === 'boolean') return `${v} (a boolean)`;
    return String(v);
  }
  return 'an alias or tag the schema does not accept';
}

function startOf(node: Node | null | undefined, fallback: number): number {
  return node?.range ? node.range[0] : fallback;
}

function pick(user: At | undefined, defaults: At | undefined): At | undefined {
  return user ?? defaults;
}

/** `hint` may add to the expectation for the value found (e.g. a "did you mean"). */
function scalarSchema<T>(
  expected: string,
  accept: (v: unknown) => T | undefined,
  extra?: (v: T) => string | undefined,
  hint?: (found: unknown) => string | undefined,
): Schema<T> {
  return {
    expected,
    read(user, defaults, path, r) {
      const at = pick(user, defaults);
      if (!at) return INVALID;
      const node = at.node;
      const raw = node !== null && isScalar(node) ? node.value : undefined;
      const value = raw !== undefined ? accept(raw) : undefined;
      if (value === undefined) {
        const more = hint?.(raw);
        r.report(at.src, startOf(node, at.offset), path, more ? `${expected} ${more}` : expected, describe(node));
        return INVALID;
      }
      const problem = extra?.(value);
      if (problem !== undefined) {
        r.report(at.src, startOf(node, at.offset), path, problem, describe(node));
        return INVALID;
      }
      return value;
    },
  };
}

export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  /** When true, `min` itself is not allowed (e.g. a learning rate > 0). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

function numberExpected(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number';
  const parts: string[] = [];
  if (rule.min !== undefined) parts.push(`${rule.minExclusive ? '>' : '≥'} ${rule.min}`);
  if (rule.max !== undefined) parts.push(`${rule.maxExclusive ? '<' : '≤'} ${rule.max}`);
  return parts.length ? `${kind} ${parts.join(' and ')}` : kind;
}

export function num(rule: NumberRule = {}): Schema<number> {
  const expected = numberExpected(rule);
  return scalarSchema<number>(expected, (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    if (rule.integer && !Number.isInteger(v)) return undefined;
    if (rule.min !== undefined && (rule.minExclusive ? v <= rule.min : v < rule.min)) return undefined;
    if (rule.max !== undefined && (rule.maxExclusive ? v >= rule.max : v > rule.max)) return undefined;
    return v;
  });
}

export const int = (rule: Omit<NumberRule, 'integer'> = {}): Schema<number> => num({ ...rule, integer: true });

export function bool(): Schema<boolean> {
  return scalarSchema<boolean>('true or false', (v) => (typeof v === 'boolean' ? v : undefined));
}

/** A string; `check` returns what was expected when the string is not acceptable. */
export function str(opts: { nonEmpty?: boolean; check?: (s: string) => string | undefined; expected?: string } = {}): Schema<string> {
  const expected = opts.expected ?? (opts.nonEmpty ? 'a non-empty string' : 'a string');
  return scalarSchema<string>(
    expected,
    (v) => (typeof v === 'string' && (!opts.nonEmpty || v.length > 0) ? v : undefined),
    opts.check,
  );
}

export function oneOf<const V extends string>(values: readonly V[]): Schema<V> {
  const known = values as readonly string[];
  return scalarSchema(
    `one of ${values.join(', ')}`,
    (v) => (typeof v === 'string' && known.includes(v) ? (v as V) : undefined),
    undefined,
    (found) => {
      const guess = typeof found === 'string' ? didYouMean(found, values) : undefined;
      return guess ? `(did you mean "${guess}"?)` : undefined;
    },
  );
}

export function list<T>(item: Schema<T>, opts: { minItems?: number; maxItems?: number } = {}): Schema<T[]> {
  const bounds = [opts.minItems !== undefined ? `at least ${opts.minItems}` : '', opts.maxItems !== undefined ? `at most ${opts.maxItems}` : '']
    .filter(Boolean)
    .join(' and ');
  const expected = `a list${bounds ? ` of ${bounds} items` : ''} of ${item.expected}`;
  return {
    expected,
    read(user, defaults, path, r) {
      const at = pick(user, defaults);
      if (!at) return INVALID;
      const node = at.node;
      if (node === null || !isSeq(node)) {
        r.report(at.src, node !== null && isScalar(node) ? startOf(node, at.offset) : (at.keyOffset ?? startOf(node, at.offset)), path, expected, describe(node));
        return INVALID;
      }
      const out: T[] = [];
      let ok = true;
      node.items.forEach((child, i) => {
        const childNode = (child ?? null) as Node | null;
        const v = item.read({ src: at.src, node: childNode, offset: startOf(childNode, startOf(node, at.offset)) }, undefined, `${path}[${i}]`, r);
        if (v === INVALID) ok = false;
        else out.push(v);
      });
      const n = node.items.length;
      if ((opts.minItems !== undefined && n < opts.minItems) || (opts.maxItems !== undefined && n > opts.maxItems)) {
        r.report(at.src, startOf(node, at.offset), path, expected, `a list of ${n} item${n === 1 ? '' : 's'}`);
        return INVALID;
      }
      return ok ? out : INVALID;
    },
  };
}

/** Chooses a schema by the node's kind, e.g. a path string, a list of paths or an {images, labels} mapping. */
export function byKind<A, B, C = never>(expected: string, scalar: Schema<A>, map: Schema<B>, seq?: Schema<C>): Schema<A | B | C> {
  return {
    expected,
    read(user, defaults, path, r) {
      const at = pick(user, defaults);
      if (!at) return INVALID;
      if (at.node !== null && isMap(at.node)) return map.read(at, undefined, path, r);
      if (seq && at.node !== null && isSeq(at.node)) return seq.read(at, undefined, path, r);
      if (at.node !== null && isScalar(at.node) && typeof at.node.value === 'string') return scalar.read(at, undefined, path, r);
      r.report(at.src, startOf(at.node, at.offset), path, expected, describe(at.node));
      return INVALID;
    },
  };
}

export interface Field<T, Opt extends boolean> {
  readonly schema: Schema<T>;
  /** Type level: whether the field may be absent from the result. */
  readonly optional: Opt;
  /** Run time: whether its absence (from both the file and the defaults) is an error where it applies. */
  readonly needed: boolean;
  /** The field applies only when this holds for the fields read before it (e.g. optimizer momentum). */
  readonly when?: (siblings: Record<string, unknown>) => boolean;
  /** Says when the field applies, for the error on a field given where it does not. */
  readonly whenText?: string;
}

export function required<T>(schema: Schema<T>): Field<T, false> {
  return { schema, optional: false, needed: true };
}

export function optional<T>(schema: Schema<T>, cond?: { when: (s: Record<string, unknown>) => boolean; text: string }): Field<T, true> {
  return { schema, optional: true, needed: false, when: cond?.when, whenText: cond?.text };
}

/** Needed where `when` holds, forbidden elsewhere; so its type is optional. */
export function requiredWhen<T>(schema: Schema<T>, when: (s: Record<string, unknown>) => boolean, text: string): Field<T, true> {
  return { schema, optional: true, needed: true, when, whenText: text };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyField = Field<any, boolean>;
type Fields = Record<string, AnyField>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<F extends Fields> = Simplify<
  { [K in keyof F as F[K] extends Field<unknown, false> ? K : never]: F[K] extends Field<infer T, boolean> ? T : never } & {
    [K in keyof F as F[K] extends Field<unknown, false> ? never : K]?: F[K] extends Field<infer T, boolean> ? T : never;
  }
>;

/** Lets an object-level check report against one of its fields (the field's own position). */
export type CrossCheck<T> = (value: T, fail: (field: string, expected: string, found: string) => void) => void;

/**
 * A mapping with known fields. Unknown fields are errors (with a suggestion); a field absent from
 * the user's mapping is read from the defaults mapping; a required field absent from both is an
 * error at the mapping (or, if the mapping is absent, at its nearest present ancestor).
 */
export function obj<F extends Fields>(fields: F, check?: CrossCheck<ObjectOf<F>>): Schema<ObjectOf<F>> {
  const names = Object.keys(fields);
  const expected = `a mapping with fields ${names.join(', ')}`;
  return {
    expected,
    read(user, defaults, path, r, missingAt) {
      const mapOf = (at: At | undefined, report: boolean): Map<string, Pair> | undefined | Invalid => {
        if (!at) return undefined;
        if (at.node === null) return new Map();
        if (!isMap(at.node)) {
          const where = isScalar(at.node) ? startOf(at.node, at.offset) : (at.keyOffset ?? startOf(at.node, at.offset));
          if (report) r.report(at.src, where, path, expected.length > 120 ? 'a mapping' : expected, describe(at.node));
          return INVALID;
        }
        const m = new Map<string, Pair>();
        for (const pair of at.node.items) {
          const keyNode = pair.key as Node | null;
          const key = keyNode !== null && isScalar(keyNode) ? String(keyNode.value) : '';
          const keyOffset = startOf(keyNode, startOf(at.node, at.offset));
          if (!names.includes(key)) {
            if (report) {
              const guess = didYouMean(key, names);
              const fieldPath = path ? `${path}.${key}` : key;
              r.report(at.src, keyOffset, fieldPath, guess ? `a known field (did you mean "${guess}"?)` : `one of the fields ${names.join(', ')}`, `unknown field "${key}"`);
            }
            continue;
          }
          m.set(key, pair);
        }
        return m;
      };
      const userMap = mapOf(user, true);
      const defaultMap = mapOf(defaults, true);
      if (userMap === INVALID) return INVALID;
      // Missing fields are reported in the user's file where possible, even when the whole mapping
      // came from the defaults, because that is the file the user must edit.
      const anchor = user ?? missingAt ?? defaults;
      if (!anchor) return INVALID;

      const out: Record<string, unknown> = {};
      const invalid = new Set<string>();
      const positions = new Map<string, At>();
      let ok = true;
      for (const name of names) {
        const field = fields[name]!;
        const fieldPath = path ? `${path}.${name}` : name;
        const atOf = (m: Map<string, Pair> | undefined | Invalid, src: At | undefined): At | undefined => {
          if (!m || m === INVALID || !src) return undefined;
          const pair = m.get(name);
          if (!pair) return undefined;
          const keyNode = pair.key as Node | null;
          const valueNode = (pair.value ?? null) as Node | null;
          const keyOffset = startOf(keyNode, src.offset);
          return { src: src.src, node: valueNode, offset: startOf(valueNode, keyOffset), keyOffset };
        };
        const mine = atOf(userMap, user);
        const theirs = atOf(defaultMap, defaults);
        const applies = field.when ? guarded(out, invalid, field.when) : true;
        if (applies === SKIPPED) {
          // Whether the field applies depends on a sibling that is invalid: check only its own value.
          if (mine && field.schema.read(mine, undefined, fieldPath, r, mine) === INVALID) ok = false;
          invalid.add(name);
          continue;
        }
        if (!applies) {
          if (mine) {
            r.report(mine.src, keyOffsetOf(userMap, name, mine.offset), fieldPath, `no "${name}" here: it applies only ${field.whenText ?? 'in another configuration'}`, describe(mine.node));
            ok = false;
            invalid.add(name);
          }
          continue;
        }
        if (!mine && !theirs) {
          if (field.needed) {
            r.report(anchor.src, anchor.keyOffset ?? anchor.offset, fieldPath, `a value (${field.schema.expected})`, 'nothing (the field is missing)');
            ok = false;
            invalid.add(name);
          }
          continue;
        }
        const v = field.schema.read(mine, mine ? (isMapAt(theirs) ? theirs : undefined) : theirs, fieldPath, r, mine ?? user ?? missingAt);
        if (v === INVALID) {
          ok = false;
          invalid.add(name);
        } else {
          out[name] = v;
          positions.set(name, (mine ?? theirs)!);
        }
      }
      const value = out as ObjectOf<F>;
      if (check) {
        // Runs even when some fields are invalid, so that the user sees all errors at once; a check
        // that reads an invalid field is skipped (it would only repeat that field's error).
        let failed = false;
        guarded(out, invalid, (partial) =>
          check(partial as ObjectOf<F>, (field, exp, found) => {
            failed = true;
            const top = field.split(/[.[]/)[0]!;
            const at = positions.get(top) ?? anchor;
            r.report(at.src, locate(at, field.slice(top.length)), path ? `${path}.${field}` : field, exp, found);
          }),
        );
        if (failed) return INVALID;
      }
      return ok ? value : INVALID;
    },
  };
}

const SKIPPED: unique symbol = Symbol('skipped');

/** Runs `fn` on `value`; if `fn` reads a field listed in `invalid`, stops it and returns SKIPPED. */
function guarded<R>(value: Record<string, unknown>, invalid: Set<string>, fn: (v: Record<string, unknown>) => R): R | typeof SKIPPED {
  const stop = { stop: true };
  const view = new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === 'string' && invalid.has(key)) throw stop;
      return Reflect.get(target, key, receiver);
    },
  });
  try {
    return fn(view);
  } catch (err) {
    if (err === stop) return SKIPPED;
    throw err;
  }
}

/** Offset of the node at `rest` (".a.b[2].c") below `at`, or of the deepest node that exists. */
function locate(at: At, rest: string): number {
  let node = at.node;
  let offset = at.offset;
  for (const m of rest.matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    let next: Node | null | undefined;
    if (m[1] !== undefined && node !== null && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === m[1]);
      next = pair ? ((pair.value ?? pair.key) as Node | null) : undefined;
    } else if (m[2] !== undefined && node !== null && isSeq(node)) {
      next = node.items[Number(m[2])] as Node | null | undefined;
    }
    if (!next) break;
    node = next;
    offset = startOf(next, offset);
  }
  return offset;
}

function isMapAt(at: At | undefined): boolean {
  return at !== undefined && at.node !== null && isMap(at.node);
}

function keyOffsetOf(m: Map<string, Pair> | undefined | Invalid, name: string, fallback: number): number {
  if (!m || m === INVALID) return fallback;
  const key = m.get(name)?.key as Node | null | undefined;
  return startOf(key, fallback);
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
