// Reading a versioned JSON document of the contract: JSON, an object, the version this program
// reads; anything else a HornError naming the document (`where`).
import { HornError, type ErrorKind } from '../common/errors';

export function readVersionedJson(text: string, where: string, version: number, kind: ErrorKind, mismatch: (found: unknown) => string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new HornError(`${where} is not JSON`, kind, { file: where });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new HornError(`${where} is not a JSON object`, kind, { file: where });
  const o = doc as Record<string, unknown>;
  if (o.version !== version) throw new HornError(`${where} has ${mismatch(o.version)}`, kind, { file: where, version: String(o.version) });
  return o;
}
