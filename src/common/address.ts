import { HornError } from './errors';

/** host:port, or [v6-address]:port, as configuration and environment variables give them. */
export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value.trim());
  if (!m) throw new HornError(`${what} must be host:port, got ${JSON.stringify(value)}`, 'cluster', { variable: what, value });
  return { host: m[1]!, port: Number(m[2]) };
}
