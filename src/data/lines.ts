// Iterates the lines a byte range owns (see plan.ts for the rule and its proof), from a stream of
// chunks that starts at the plan's fetch offset.
import type { LinePlan } from './plan';

export interface RawLine {
  /** Absolute offset of the line's first byte. */
  readonly offset: number;
  /** 1-based line number when the range started at byte 0, else undefined. */
  readonly line: number | undefined;
  /** The line without its '\n' (and without a '\r' before it). */
  readonly text: string;
}

const NEWLINE = 10;
const CR = 13;
const decoder = new TextDecoder('utf-8');

export async function* ownedLines(chunks: AsyncIterable<Uint8Array>, plan: LinePlan): AsyncGenerator<RawLine> {
  let pos = plan.fetchOffset; // absolute offset of the current chunk's first byte
  let skipping = plan.skipThroughNewline;
  let lineStart = plan.fetchOffset; // meaningful once not skipping
  let lineNo = plan.skipThroughNewline ? undefined : 1;
  let carry: Uint8Array[] = [];
  const emit = (bytes: Uint8Array): RawLine => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    const out = { offset: lineStart, line: lineNo, text: decoder.decode(bytes.subarray(0, end)) };
    if (lineNo !== undefined) lineNo++;
    return out;
  };
  for await (const chunk of chunks) {
    let i = 0;
    if (skipping) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        pos += chunk.length;
        continue;
      }
      skipping = false;
      i = nl + 1;
      lineStart = pos + i;
    }
    if (lineStart >= plan.ownedBefore) return;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, i);
      if (nl < 0) {
        if (i < chunk.length) carry.push(chunk.slice(i));
        break;
      }
      const piece = chunk.subarray(i, nl);
      const bytes = carry.length ? concat([...carry, piece]) : piece;
      carry = [];
      yield emit(bytes);
      lineStart = pos + nl + 1;
      if (lineStart >= plan.ownedBefore) return;
      i = nl + 1;
    }
    pos += chunk.length;
  }
  // A last line without a trailing newline.
  if (!skipping && carry.length && lineStart < plan.ownedBefore) yield emit(concat(carry));
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
