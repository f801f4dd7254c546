import { AskConflictError, AskTable } from '../../../src/hadoop/yarn';
import type { ResourceRequest } from '../../../src/hadoop/yarn';

const capability = { memory: 128, virtualCores: 1 };
const byName = (asks: ResourceRequest[]) =>
  Object.fromEntries(asks.map((a) => [`${a.priority.priority}:${a.resourceName}`, { n: a.numContainers, relax: a.relaxLocality }]));
const container = (host: string, priority: number, allocationRequestId = -1) => ({ nodeId: { host, port: 8041 }, priority: { priority }, allocationRequestId });

describe('AskTable (absolute asks, locality)', () => {
  test('strict node requests: node asks relaxed, rack and * strict, counts aggregated', () => {
    const t = new AskTable();
    t.add({ capability, priority: 1, nodes: ['node1.test'], relaxLocality: false });
    t.add({ capability, priority: 1, nodes: ['node2.test'], relaxLocality: false });
    t.add({ capability, priority: 2 });
    expect(byName(t.takeChangedAsks())).toEqual({
      '1:node1.test': { n: 1, relax: true },
      '1:node2.test': { n: 1, relax: true },
      '1:/default-rack': { n: 2, relax: false },
      '1:*': { n: 2, relax: false },
      '2:*': { n: 1, relax: true },
    });
  });

  test('only changed counts are resent; matched containers lower them; cancelled asks go to 0', () => {
    const t = new AskTable();
    const a = t.add({ capability, priority: 1, nodes: ['node1.test'], relaxLocality: false });
    t.add({ capability, priority: 1, nodes: ['node2.test'], relaxLocality: false });
    t.takeChangedAsks();
    expect(t.takeChangedAsks()).toEqual([]); // nothing changed: re-sending would re-inflate the RM's count
    const m = t.match(container('node2.test', 1))!;
    expect(m.locality).toBe('node');
    expect(m.request.nodes).toEqual(['node2.test']);
    expect(byName(t.takeChangedAsks())).toEqual({
      '1:node2.test': { n: 0, relax: true },
      '1:/default-rack': { n: 1, relax: false },
      '1:*': { n: 1, relax: false },
    });
    expect(t.remove(a.requestId)).toBe(true);
    expect(byName(t.takeChangedAsks())).toEqual({
      '1:node1.test': { n: 0, relax: true },
      '1:/default-rack': { n: 0, relax: false },
      '1:*': { n: 0, relax: false },
    });
    expect(t.outstanding).toEqual([]);
  });

  test('a container on a host no strict request names is surplus; relaxed requests take any host', () => {
    const t = new AskTable();
    t.add({ capability, priority: 1, nodes: ['node1.test'], relaxLocality: false });
    expect(t.match(container('node3.test', 1))).toBeUndefined();
    t.add({ capability, priority: 2, nodes: ['node1.test'] });
    expect(t.match(container('node3.test', 2))).toMatchObject({ locality: 'rack' });
    t.add({ capability, priority: 3 });
    expect(t.match(container('node3.test', 3))).toMatchObject({ locality: 'off-switch' });
    expect(t.match(container('node3.test', 9))).toBeUndefined();
  });

  test('node matches are preferred over relaxed requests of the same key', () => {
    const t = new AskTable();
    const anywhere = t.add({ capability, priority: 1 });
    const onNode2 = t.add({ capability, priority: 1, nodes: ['node2.test'] });
    expect(t.match(container('node2.test', 1))!.request.requestId).toBe(onNode2.requestId);
    expect(t.match(container('node1.test', 1))!.request.requestId).toBe(anywhere.requestId);
  });

  test('allocation request ids separate keys and are sent', () => {
    const t = new AskTable();
    t.add({ capability, priority: 1, nodes: ['node1.test'], relaxLocality: false, allocationRequestId: 7 });
    t.add({ capability, priority: 1, allocationRequestId: 8 });
    const asks = t.takeChangedAsks();
    expect(asks.filter((a) => a.resourceName === '*').map((a) => [a.allocationRequestId, a.relaxLocality])).toEqual([
      [7, false],
      [8, true],
    ]);
    expect(t.match(container('node1.test', 1, 8))!.request.allocationRequestId).toBe(8);
  });

  test('mixing strict and relaxed, or two capabilities, in one key is refused', () => {
    const t = new AskTable();
    t.add({ capability, priority: 1, nodes: ['a'], relaxLocality: false });
    expect(() => t.add({ capability, priority: 1 })).toThrow(AskConflictError);
    expect(() => t.add({ capability: { memory: 256, virtualCores: 1 }, priority: 1, nodes: ['b'], relaxLocality: false })).toThrow(/different capabilities/);
    expect(() => t.add({ capability, priority: 2, relaxLocality: false })).toThrow(/needs at least one node or rack/);
  });

  test('custom rack resolver and explicit racks', () => {
    const t = new AskTable((h) => (h.startsWith('a') ? '/r1' : '/r2'));
    t.add({ capability, priority: 1, nodes: ['a1', 'b1'], racks: ['/r2'], relaxLocality: false });
    expect(byName(t.takeChangedAsks())).toEqual({
      '1:a1': { n: 1, relax: true },
      '1:b1': { n: 1, relax: true },
      '1:/r2': { n: 1, relax: true },
      '1:/r1': { n: 1, relax: false },
      '1:*': { n: 1, relax: false },
    });
    expect(t.match(container('b7', 1))).toMatchObject({ locality: 'rack' });
  });

  test('resendAll makes the next heartbeat carry every outstanding ask again (after re-register)', () => {
    const t = new AskTable();
    t.add({ capability, priority: 1 });
    t.takeChangedAsks();
    t.resendAll();
    expect(byName(t.takeChangedAsks())).toEqual({ '1:*': { n: 1, relax: true } });
  });
});
