// Container-request bookkeeping for the AM–RM protocol, as pure logic.
//
// The RM keeps absolute asks per (priority, allocation_request_id, resource name) and decrements
// them itself as it allocates. Like Hadoop's AMRMClient, horn keeps the list of outstanding
// logical requests (one container each), derives the node / rack / "*" counts from it, sends only
// the counts that changed since the last heartbeat, and matches each allocated container back to
// the request it satisfies (removing that request).
import type { Container, Resource, ResourceRequest } from './records';

export const ANY = '*';
export const DEFAULT_RACK = '/default-rack';
/** allocation_request_id when none is set (the proto default). */
export const NO_ALLOCATION_REQUEST_ID = -1;

export interface ContainerRequest {
  capability: Resource;
  priority: number;
  /** Host names as the RM knows the NodeManagers. */
  nodes?: readonly string[];
  racks?: readonly string[];
  /** false = only on the named nodes/racks. Default true. */
  relaxLocality?: boolean;
  allocationRequestId?: number;
  nodeLabelExpression?: string;
}

/** An outstanding request with the id `add` gave it. */
export interface TrackedRequest extends ContainerRequest {
  readonly requestId: number;
}

/** Two requests in one (priority, allocation id) cannot disagree on relax-locality or capability: the RM has one "*" ask for both. */
export class AskConflictError extends Error {
  constructor(
    readonly priority: number,
    readonly allocationRequestId: number,
    readonly detail: string,
  ) {
    super(`container request conflicts at priority ${priority}, allocation request id ${allocationRequestId}: ${detail}; use another priority or allocation request id`);
    this.name = 'AskConflictError';
  }
}

export interface MatchResult {
  request: TrackedRequest;
  /** How the container satisfied it. */
  locality: 'node' | 'rack' | 'off-switch';
}

interface Aggregate {
  numContainers: number;
  relaxLocality: boolean;
  capability: Resource;
  priority: number;
  allocationRequestId: number;
  resourceName: string;
  nodeLabelExpression?: string;
}

const schedulerKey = (priority: number, allocationRequestId: number) => `${priority}/${allocationRequestId}`;
const askKey = (priority: number, allocationRequestId: number, resourceName: string) => `${priority}/${allocationRequestId}/${resourceName}`;
const sameResource = (a: Resource, b: Resource) => a.memory === b.memory && a.virtualCores === b.virtualCores;

export class AskTable {
  private readonly requests = new Map<number, TrackedRequest>();
  private lastSent = new Map<string, Aggregate>();
  private nextId = 1;

  constructor(private readonly rackOf: (host: string) => string = () => DEFAULT_RACK) {}

  /** Adds one container request; returns it with its id. */
  add(request: ContainerRequest): TrackedRequest {
    const relax = request.relaxLocality ?? true;
    const allocationRequestId = request.allocationRequestId ?? NO_ALLOCATION_REQUEST_ID;
    if (!relax && !(request.nodes?.length || request.racks?.length)) {
      throw new AskConflictError(request.priority, allocationRequestId, 'relaxLocality=false needs at least one node or rack');
    }
    for (const other of this.requests.values()) {
      if (other.priority !== request.priority || (other.allocationRequestId ?? NO_ALLOCATION_REQUEST_ID) !== allocationRequestId) continue;
      if ((other.relaxLocality ?? true) !== relax) {
        throw new AskConflictError(request.priority, allocationRequestId, 'strict-locality and relaxed requests are mixed');
      }
      if (!sameResource(other.capability, request.capability)) {
        throw new AskConflictError(request.priority, allocationRequestId, 'requests with different capabilities are mixed');
      }
    }
    const tracked: TrackedRequest = {
      ...request,
      nodes: request.nodes ? [...new Set(request.nodes)] : undefined,
      racks: request.racks ? [...new Set(request.racks)] : undefined,
      relaxLocality: relax,
      allocationRequestId,
      requestId: this.nextId++,
    };
    this.requests.set(tracked.requestId, tracked);
    return tracked;
  }

  /** Cancels an outstanding request; false if it was already matched or removed. */
  remove(requestId: number): boolean {
    return this.requests.delete(requestId);
  }

  get outstanding(): TrackedRequest[] {
    return [...this.requests.values()];
  }

  /**
   * Finds the outstanding request `container` satisfies and removes it. Prefers a request naming
   * the container's node, then its rack, then a relaxed request. `undefined` = surplus container.
   */
  match(container: Pick<Container, 'priority' | 'nodeId' | 'allocationRequestId'>): MatchResult | undefined {
    const priority = container.priority.priority;
    const allocationRequestId = container.allocationRequestId ?? NO_ALLOCATION_REQUEST_ID;
    const host = container.nodeId.host;
    const rack = this.rackOf(host);
    const candidates = this.outstanding.filter(
      (r) => r.priority === priority && (r.allocationRequestId ?? NO_ALLOCATION_REQUEST_ID) === allocationRequestId,
    );
    const pick = (r: TrackedRequest | undefined, locality: MatchResult['locality']): MatchResult | undefined => {
      if (!r) return undefined;
      this.requests.delete(r.requestId);
      return { request: r, locality };
    };
    return (
      pick(candidates.find((r) => r.nodes?.includes(host)), 'node') ??
      pick(
        candidates.find((r) => r.racks?.includes(rack) || (r.relaxLocality && r.nodes?.some((n) => this.rackOf(n) === rack))),
        'rack',
      ) ??
      pick(candidates.find((r) => r.relaxLocality), 'off-switch')
    );
  }

  /** Absolute asks for every location whose count or flags changed since the last call. */
  takeChangedAsks(): ResourceRequest[] {
    const current = this.aggregate();
    const out: ResourceRequest[] = [];
    for (const [key, agg] of current) {
      const sent = this.lastSent.get(key);
      if (!sent || sent.numContainers !== agg.numContainers || sent.relaxLocality !== agg.relaxLocality) out.push(toRequest(agg));
    }
    for (const [key, sent] of this.lastSent) {
      if (!current.has(key)) out.push(toRequest({ ...sent, numContainers: 0 }));
    }
    this.lastSent = current;
    return out;
  }

  /** Forgets what was sent so the next `takeChangedAsks` resends everything (after a re-register). */
  resendAll(): void {
    this.lastSent = new Map();
  }

  private aggregate(): Map<string, Aggregate> {
    const out = new Map<string, Aggregate>();
    const bump = (r: TrackedRequest, resourceName: string, relax: boolean, relaxWins: boolean) => {
      const allocationRequestId = r.allocationRequestId ?? NO_ALLOCATION_REQUEST_ID;
      const key = askKey(r.priority, allocationRequestId, resourceName);
      const existing = out.get(key);
      if (existing) {
        existing.numContainers++;
        if (relaxWins && relax) existing.relaxLocality = true;
      } else {
        out.set(key, {
          numContainers: 1,
          relaxLocality: relax,
          capability: r.capability,
          priority: r.priority,
          allocationRequestId,
          resourceName,
          nodeLabelExpression: r.nodeLabelExpression,
        });
      }
    };
    for (const r of this.requests.values()) {
      const relax = r.relaxLocality ?? true;
      const explicitRacks = new Set(r.racks ?? []);
      for (const node of r.nodes ?? []) bump(r, node, true, true);
      for (const rack of explicitRacks) bump(r, rack, true, true);
      // Node requests must come with their rack's request; its relax flag carries the strictness.
      const inferred = new Set((r.nodes ?? []).map((n) => this.rackOf(n)).filter((rk) => !explicitRacks.has(rk)));
      for (const rack of inferred) bump(r, rack, relax, true);
      bump(r, ANY, relax, false);
    }
    return out;
  }

  /** Scheduler keys currently in use, for diagnostics. */
  get schedulerKeys(): string[] {
    return [...new Set(this.outstanding.map((r) => schedulerKey(r.priority, r.allocationRequestId ?? NO_ALLOCATION_REQUEST_ID)))];
  }
}

function toRequest(a: Aggregate): ResourceRequest {
  const r: ResourceRequest = {
    priority: { priority: a.priority },
    resourceName: a.resourceName,
    capability: a.capability,
    numContainers: a.numContainers,
    relaxLocality: a.relaxLocality,
  };
  if (a.allocationRequestId !== NO_ALLOCATION_REQUEST_ID) r.allocationRequestId = a.allocationRequestId;
  if (a.nodeLabelExpression) r.nodeLabelExpression = a.nodeLabelExpression;
  return r;
}
