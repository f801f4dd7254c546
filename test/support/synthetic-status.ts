// A synthetic but complete training run for the page tests: 6 workers in 3 groups, 2 parameter
// servers, SSP, a history fed through the real MetricHistory. Its clock follows the wall clock
// (`stepsPerSecond`), so a page polling it sees the run move.
import { MetricHistory } from '../../src/coordinator/metrics';
import type { ContainerView, StatusDocument } from '../../src/protocol';

export interface SyntheticRun {
  /** The document now (what the AM's provider returns). */
  readonly status: () => StatusDocument;
  /** The run at its end: every epoch recorded, phase succeeded. */
  readonly finished: () => StatusDocument;
}

const EPOCHS = 8;
const STEPS_PER_EPOCH = 40;
const WORKERS = 6;
const GROUPS = [[0, 1], [2, 3], [4, 5]];
const PARAMETERS = 784 * 64 + 64 + 64 * 10 + 10;

const lossAt = (clock: number) => 2.3 * Math.exp(-clock / 60) + 0.08 + 0.02 * Math.sin(clock);
const accuracyAt = (clock: number) => 0.98 - 0.85 * Math.exp(-clock / 50);

export function syntheticRun(options: { stepsPerSecond?: number; startClock?: number; now?: () => number } = {}): SyntheticRun {
  const now = options.now ?? Date.now;
  const rate = options.stepsPerSecond ?? 5;
  const startedAt = now() - 30_000;
  const history = new MetricHistory();
  let recorded = 0;
  let epochsRecorded = 0;
  const total = EPOCHS * STEPS_PER_EPOCH;
  const clockNow = () => Math.min(total, (options.startClock ?? 12) + Math.floor(((now() - startedAt - 30_000) / 1000) * rate));

  function advanceTo(clock: number): void {
    for (; recorded < clock; recorded++) {
      const c = recorded + 1;
      history.addStep({ t: 30_000 + (c * 1000) / rate, clock: c, epoch: Math.floor((c - 1) / STEPS_PER_EPOCH) + 1, loss: lossAt(c), accuracy: accuracyAt(c), learningRate: 0.05 * 0.5 ** Math.floor(c / 100), samplesPerSecond: 6000 + 300 * Math.sin(c / 7), staleness: c % 3 });
      if (c % STEPS_PER_EPOCH === 0) {
        epochsRecorded++;
        history.addEpoch({ epoch: epochsRecorded, t: 30_000 + (c * 1000) / rate, loss: lossAt(c), accuracy: accuracyAt(c), validationLoss: lossAt(c) * 1.1, validationAccuracy: accuracyAt(c) - 0.01, seconds: STEPS_PER_EPOCH / rate });
      }
    }
  }

  function document(clock: number, phase: StatusDocument['phase']): StatusDocument {
    advanceTo(clock);
    const epoch = Math.min(EPOCHS, Math.floor(clock / STEPS_PER_EPOCH) + 1);
    const workers: ContainerView[] = Array.from({ length: WORKERS }, (_, index) => ({
      role: 'worker',
      index,
      group: Math.floor(index / 2),
      attempt: index === 3 ? 1 : 0,
      state: phase === 'succeeded' ? 'finished' : 'running',
      containerId: `container_1700000000000_0007_01_00000${index + 2}`,
      host: `node${(index % 3) + 1}.test`,
      locality: index === 5 ? 'off-switch' : 'node-local',
      phase: 'training',
      clock: clock + (index % 2),
      epoch,
      loss: lossAt(clock) + index * 0.001,
      accuracy: accuracyAt(clock),
      samplesPerSecond: 1000 + index * 20,
      shares: { compute: 0.7 - index * 0.05, communication: 0.2, waiting: 0.05 + index * 0.04 },
      bytesLocal: 1_500_000 * (clock + 1),
      bytesRemote: index === 5 ? 800_000 * (clock + 1) : 0,
      restarts: index === 3 ? 1 : 0,
      diagnostics: index === 3 ? 'attempt 1 failed: killed: exceeded physical memory' : undefined,
    }));
    const half = Math.ceil(PARAMETERS / 2);
    const servers: ContainerView[] = [0, 1].map((index) => ({
      role: 'server',
      index,
      attempt: 0,
      state: phase === 'succeeded' ? 'finished' : 'running',
      containerId: `container_1700000000000_0007_01_00001${index}`,
      host: `node${index + 2}.test`,
      clock,
      shard: { start: index * half, end: Math.min(PARAMETERS, (index + 1) * half) },
      updates: clock * GROUPS.length,
      bytesIn: clock * 3 * half * 4,
      bytesOut: clock * 3 * half * 4,
    }));
    const h = history.history();
    return {
      version: 2,
      applicationId: 'application_1700000000000_0007',
      name: 'synthetic-<run>',
      phase,
      progress: Math.min(1, clock / total),
      startedAt,
      updatedAt: now(),
      epoch,
      epochs: EPOCHS,
      clock,
      clocks: total,
      loss: lossAt(clock),
      accuracy: accuracyAt(clock),
      samplesPerSecond: 6000,
      learningRate: h.steps.at(-1)?.learningRate,
      consistency: { mode: 'ssp', staleness: 2 },
      wire: 'fp16',
      groups: GROUPS.map((members, index) => ({ index, members, clock: clock - index, staleness: { max: 2, mean: 0.4 + index / 10, reads: clock * 2 }, samplesPerSecond: 2000 })),
      containers: [...workers, ...servers],
      waitingFor: phase === 'training' ? 'worker 5 (group 2) at clock ' + (clock - 2) : undefined,
      history: h,
      ...(phase === 'succeeded' ? { testAccuracy: accuracyAt(total) - 0.005, model: '/user/root/models/synthetic/application_1700000000000_0007' } : {}),
    };
  }

  return {
    status: () => document(clockNow(), 'training'),
    finished: () => document(total, 'succeeded'),
  };
}
