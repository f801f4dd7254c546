// Loads horn's .proto subsets (same package, message names and field numbers as Hadoop's) into one
// protobufjs root and exposes typed codecs. Messages are plain objects: int64 fields become
// numbers, enums their names, bytes Buffers, repeated fields always arrays.
import protobuf from 'protobufjs';
import rpcHeaderSource from './RpcHeader.proto';
import securitySource from './Security.proto';
import yarnSource from './yarn_protos.proto';
import yarnServiceSource from './yarn_service_protos.proto';
import yarnSecurityTokenSource from './yarn_security_token.proto';

export class ProtoCodecError extends Error {
  constructor(
    readonly messageType: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${messageType}: ${detail}`, options);
    this.name = 'ProtoCodecError';
  }
}

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  for (const source of [rpcHeaderSource, securitySource, yarnSource, yarnServiceSource, yarnSecurityTokenSource]) {
    protobuf.parse(source, r);
  }
  r.resolveAll();
  root = r;
  return r;
}

export interface Codec<T> {
  readonly typeName: string;
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

const conversion: protobuf.IConversionOptions = { longs: Number, enums: String, arrays: true };

/** Codec for the fully qualified message `typeName`, e.g. `hadoop.yarn.AllocateRequestProto`. */
export function codec<T extends object>(typeName: string): Codec<T> {
  let type: protobuf.Type | undefined;
  const getType = (): protobuf.Type => {
    if (!type) type = loadRoot().lookupType(typeName);
    return type;
  };
  return {
    typeName,
    encode(message: T): Uint8Array {
      const t = getType();
      let wire: protobuf.Message;
      try {
        wire = t.fromObject(message as Record<string, unknown>);
      } catch (cause) {
        throw new ProtoCodecError(typeName, `cannot encode: ${(cause as Error).message}`, { cause });
      }
      // fromObject does not check required fields; Hadoop servers reject messages missing them.
      const missing = missingRequired(t, message as Record<string, unknown>, '');
      if (missing) throw new ProtoCodecError(typeName, `cannot encode: required field ${missing} is missing`);
      return t.encode(wire).finish();
    },
    decode(bytes: Uint8Array): T {
      const t = getType();
      try {
        return t.toObject(t.decode(bytes), conversion) as T;
      } catch (cause) {
        throw new ProtoCodecError(typeName, `cannot decode ${bytes.length} bytes: ${(cause as Error).message}`, { cause });
      }
    },
  };
}

/** Path of the first required field that is absent, searching nested messages; undefined if none. */
function missingRequired(type: protobuf.Type, value: Record<string, unknown>, prefix: string): string | undefined {
  for (const field of type.fieldsArray) {
    const v = value[field.name];
    if (v === undefined || v === null) {
      if (field.required) return `${prefix}${field.name}`;
      continue;
    }
    const nested = field.resolvedType;
    if (!(nested instanceof protobuf.Type)) continue;
    const items = field.repeated && Array.isArray(v) ? v : [v];
    for (let i = 0; i < items.length; i++) {
      const path = field.repeated ? `${prefix}${field.name}[${i}].` : `${prefix}${field.name}.`;
      const found = missingRequired(nested, items[i] as Record<string, unknown>, path);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Returns true if `field` was present on the wire of a decoded message. Needed where Hadoop
 * compares has-bits, e.g. the SaslAuth echo (`protocol = ""` must stay present).
 */
export function hasField(message: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}
