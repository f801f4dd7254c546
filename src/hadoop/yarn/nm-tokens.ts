// NMTokens arrive only once per node (or after a key roll), so they are cached per host:port.
import type { Token } from '../security/token';
import type { NMTokenRecord, NodeId } from './records';

export const nodeKey = (node: NodeId) => `${node.host}:${node.port}`;

export class NMTokenCache {
  private readonly tokens = new Map<string, Token>();
  private readonly listeners = new Set<(node: string, token: Token) => void>();

  /** Stores the latest token of each node; notifies listeners when a node's token changes. */
  update(records: readonly NMTokenRecord[]): void {
    for (const r of records) {
      const key = nodeKey(r.nodeId);
      this.tokens.set(key, r.token);
      for (const l of this.listeners) l(key, r.token);
    }
  }

  get(node: NodeId | string): Token | undefined {
    return this.tokens.get(typeof node === 'string' ? node : nodeKey(node));
  }

  get size(): number {
    return this.tokens.size;
  }

  onUpdate(listener: (node: string, token: Token) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
