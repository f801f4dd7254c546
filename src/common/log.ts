// Structured logs of the ApplicationMaster and the containers: pino, one JSON object per line on
// stdout (the NodeManager keeps it as the container's stdout log), each line naming who wrote it:
//   {"level":"info","time":"2026-…Z","role":"worker","index":3,"containerId":"container_…",
//    "applicationId":"application_…","host":"node2.test","msg":"…", …fields}
// The level comes from HORN_LOG_LEVEL (info by default). `horn logs` prints these lines readably.
//
// Secrets stay out by construction, in three layers: (1) the application secret and tokens are
// bytes (Buffers) in horn, and a Buffer or typed array is logged as its length only, whatever
// its name; (2) any field, at any depth, whose name looks secret (secret, token, password,
// credential, authorization, cookie, signature, private/api key) is replaced by "[redacted]";
// (3) the identity fields are the only bindings this factory sets. What no logger can catch is a
// secret pasted into a message string: messages are written from fixed text and ids only.
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { HornError } from './errors';

export const LOG_LEVEL_ENV = 'HORN_LOG_LEVEL';
export const LOG_LEVELS: readonly (Level | 'silent')[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
export const REDACTED = '[redacted]';

/** Who writes a log: bound into every line. */
export interface LogIdentity {
  readonly role: 'am' | 'worker' | 'server';
  readonly index?: number;
  readonly containerId?: string;
  readonly applicationId?: string;
  readonly host?: string;
}

/** The fields every line has, as `horn logs` reads them back. */
export interface LogRecord extends Partial<LogIdentity> {
  readonly level: Level;
  readonly time: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export type { Logger };

const SECRET_NAME = /secret|token|passw(or)?d|credential|authori[sz]ation|cookie|signature|private[-_]?key|api[-_]?key/i;
const MAX_DEPTH = 8;

/** The level HORN_LOG_LEVEL asks for; anything else is an input error naming the value. */
export function logLevelFrom(env: NodeJS.ProcessEnv = process.env): Level | 'silent' {
  const raw = env[LOG_LEVEL_ENV]?.trim().toLowerCase();
  if (!raw) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new HornError(`${LOG_LEVEL_ENV}=${JSON.stringify(env[LOG_LEVEL_ENV])} is not a log level (expected one of ${LOG_LEVELS.join(', ')})`, 'input', { variable: LOG_LEVEL_ENV, value: env[LOG_LEVEL_ENV] });
  }
  return raw as Level | 'silent';
}

/** A copy of `value` with secret-named fields redacted and bytes replaced by their length. */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Error || value instanceof Date) return value; // pino's err serializer; ISO dates
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  if (value instanceof Map) return redact(Object.fromEntries(value), depth, seen);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_NAME.test(k) && v !== undefined && v !== null ? REDACTED : redact(v, depth + 1, seen);
  return out;
}

export interface LoggerOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Where lines go: stdout, written synchronously (a container may exit right after logging). */
  readonly destination?: DestinationStream;
}

/** pino runs the bindings formatter for the root logger only; children's bindings are redacted here. */
type ChildFactory = (this: Logger, bindings: Record<string, unknown>, options?: object) => Logger;
function redactChildren(logger: Logger, pinoChild: ChildFactory = logger.child as unknown as ChildFactory): Logger {
  (logger as unknown as { child: ChildFactory }).child = (bindings, options) => redactChildren(pinoChild.call(logger, redact(bindings) as Record<string, unknown>, options), pinoChild);
  return logger;
}

export function createLogger(identity: LogIdentity, options: LoggerOptions = {}): Logger {
  const base: Record<string, unknown> = { role: identity.role };
  for (const key of ['index', 'containerId', 'applicationId', 'host'] as const) if (identity[key] !== undefined) base[key] = identity[key];
  return redactChildren(pino(
    {
      level: logLevelFrom(options.env),
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => redact(bindings) as Record<string, unknown>,
        log: (fields) => redact(fields) as Record<string, unknown>,
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  ));
}
