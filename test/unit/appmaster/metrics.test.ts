import { BoundedSeries, MetricHistory, mergeSteps } from '../../../src/coordinator/metrics';
import type { StatusDocument, StepPoint } from '../../../src/protocol';

const step = (clock: number, extra: Partial<StepPoint> = {}): StepPoint => ({ t: clock * 100, clock, epoch: 1 + Math.floor(clock / 50), loss: 1 / clock, accuracy: clock / 1e6, ...extra });

describe('BoundedSeries', () => {
  test('keeps every point until full, then never more than its capacity, evenly covering the run', () => {
    const s = new BoundedSeries(8, (a: number, wa: number, b: number, wb: number) => (a * wa + b * wb) / (wa + wb));
    for (let i = 1; i <= 7; i++) s.add(i);
    expect(s.points()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    s.add(8); // full: pairs merge, stride 2
    expect(s.points()).toEqual([1.5, 3.5, 5.5, 7.5]);
    s.add(9); // a partly filled slot shows as the newest point
    expect(s.points()).toEqual([1.5, 3.5, 5.5, 7.5, 9]);
    s.add(10);
    expect(s.points()).toEqual([1.5, 3.5, 5.5, 7.5, 9.5]);
    for (let i = 11; i <= 10_000; i++) {
      s.add(i);
      expect(s.points().length).toBeLessThanOrEqual(8);
    }
    expect(s.added).toBe(10_000);
    const pts = s.points();
    // Each full slot is the mean of the same number of consecutive raw points: equal spacing.
    const gaps = pts.slice(1, -1).map((p, i) => p - pts[i]!);
    expect(new Set(gaps).size).toBe(1);
    expect(pts[0]).toBeLessThan(10_000 / 4); // the first slot stands for the start of the run
  });

  test('rejects a capacity it cannot halve', () => {
    expect(() => new BoundedSeries(7, mergeSteps)).toThrow(/even integer/);
    expect(() => new BoundedSeries(0, mergeSteps)).toThrow(/even integer/);
  });
});

describe('MetricHistory', () => {
  test('merged step points: weighted means of loss, accuracy and samples/s; last clock, time and rate; largest staleness', () => {
    const h = new MetricHistory({ stepCapacity: 2 });
    h.addStep(step(1, { loss: 4, accuracy: 0.1, samplesPerSecond: 100, learningRate: 0.1, staleness: 3 }));
    h.addStep(step(2, { loss: 2, accuracy: 0.3, samplesPerSecond: 300, learningRate: 0.05, staleness: 1 }));
    expect(h.history().steps).toEqual([{ t: 200, clock: 2, epoch: 1, loss: 3, accuracy: 0.2, samplesPerSecond: 200, learningRate: 0.05, staleness: 3 }]);
    h.addStep(step(3, { loss: 1, accuracy: 0.5 }));
    h.addStep(step(4, { loss: 1, accuracy: 0.5 }));
    // Full again: the first slot (2 points) merged with the second (2 points), equal weights.
    expect(h.history().steps).toEqual([{ t: 400, clock: 4, epoch: 1, loss: 2, accuracy: 0.35, samplesPerSecond: 200, learningRate: 0.05, staleness: 3 }]);
    expect(h.recorded).toEqual({ steps: 4, epochs: 0 });
  });

  test('a long run stays bounded and its curve still ends at the last step', () => {
    const h = new MetricHistory({ stepCapacity: 1024 });
    for (let c = 1; c <= 1_000_000; c++) h.addStep(step(c));
    const { steps } = h.history();
    expect(steps.length).toBeLessThanOrEqual(1024);
    expect(steps.length).toBeGreaterThan(512);
    expect(steps.at(-1)!.clock).toBe(1_000_000);
    expect(steps[0]!.clock).toBeLessThan(2000);
    expect(JSON.stringify(h.history()).length).toBeLessThan(150_000);
  });

  test('drops non-finite losses; keeps epochs with their validation', () => {
    const h = new MetricHistory();
    h.addStep(step(1, { loss: NaN }));
    h.addEpoch({ epoch: 1, t: 5, loss: 0.5, accuracy: 0.8, validationAccuracy: 0.79, validationLoss: undefined });
    expect(h.history()).toEqual({ steps: [], epochs: [{ epoch: 1, t: 5, loss: 0.5, accuracy: 0.8, validationAccuracy: 0.79 }] });
  });

  test('observe records a step only when the global clock moves and there is a loss', () => {
    const h = new MetricHistory();
    const doc = { startedAt: 1000, updatedAt: 1500, clock: 0, groups: [{ index: 0, members: [0], clock: 0, staleness: { max: 2, mean: 1, reads: 3 } }] } as unknown as StatusDocument;
    expect(h.observe(doc)).toBe(false); // no loss yet
    Object.assign(doc, { clock: 3, loss: 0.9, accuracy: 0.6, epoch: 1, learningRate: 0.1, samplesPerSecond: 50 });
    expect(h.observe(doc)).toBe(true);
    expect(h.observe(doc)).toBe(false); // same clock
    Object.assign(doc, { clock: 4, updatedAt: 1600, loss: 0.8 });
    expect(h.observe(doc)).toBe(true);
    expect(h.history().steps).toEqual([
      { t: 500, clock: 3, epoch: 1, loss: 0.9, accuracy: 0.6, learningRate: 0.1, samplesPerSecond: 50, staleness: 2 },
      { t: 600, clock: 4, epoch: 1, loss: 0.8, accuracy: 0.6, learningRate: 0.1, samplesPerSecond: 50, staleness: 2 },
    ]);
  });
});
