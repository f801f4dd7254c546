// What the ApplicationMaster knows about its run, as served on its status page and JSON
// endpoint and reported to the ResourceManager as progress. Pure state.

export type AmPhase = 'starting' | 'allocating' | 'launching' | 'reading' | 'training' | 'evaluating' | 'saving' | 'succeeded' | 'failed';

export interface WorkerView {
  index: number;
  containerId?: string;
  host?: string;
  state: 'requested' | 'launched' | 'connected' | 'finished' | 'failed';
  phase?: string;
  epoch?: number;
  loss?: number;
  accuracy?: number;
  samplesPerSecond?: number;
  /** 0–1 of this worker's training. */
  fraction?: number;
}

export interface AmStatusDocument {
  applicationId: string;
  name: string;
  phase: AmPhase;
  /** 0–1 over the whole run. */
  progress: number;
  epoch?: number;
  epochs: number;
  loss?: number;
  accuracy?: number;
  samplesPerSecond?: number;
  testAccuracy?: number;
  model?: string;
  diagnostics?: string;
  startedAt: number;
  workers: WorkerView[];
}

export class AmStatus {
  readonly doc: AmStatusDocument;

  constructor(applicationId: string, name: string, epochs: number, workers: number, now = Date.now()) {
    this.doc = {
      applicationId,
      name,
      phase: 'starting',
      progress: 0,
      epochs,
      startedAt: now,
      workers: Array.from({ length: workers }, (_, index) => ({ index, state: 'requested' })),
    };
  }

  setPhase(phase: AmPhase): void {
    this.doc.phase = phase;
  }

  worker(index: number): WorkerView {
    const w = this.doc.workers[index];
    if (!w) throw new RangeError(`no worker ${index}`);
    return w;
  }

  /** A worker's training report; the job's progress is the mean over workers. */
  workerProgress(index: number, p: { phase?: string; epoch?: number; loss?: number; accuracy?: number; samplesPerSecond?: number; fraction?: number }): void {
    const w = this.worker(index);
    Object.assign(w, { phase: p.phase ?? w.phase, epoch: p.epoch ?? w.epoch, loss: p.loss ?? w.loss, accuracy: p.accuracy ?? w.accuracy, samplesPerSecond: p.samplesPerSecond ?? w.samplesPerSecond });
    if (p.phase === 'training' || p.phase === 'reading' || p.phase === 'evaluating' || p.phase === 'saving') this.doc.phase = p.phase;
    if (p.fraction !== undefined) w.fraction = p.fraction;
    const fractions = this.doc.workers.map((x) => x.fraction ?? 0);
    // Training is most of the run; reading and saving are the ends.
    this.doc.progress = Math.min(0.99, 0.02 + 0.95 * (fractions.reduce((a, b) => a + b, 0) / fractions.length));
    this.doc.epoch = p.epoch ?? this.doc.epoch;
    this.doc.loss = p.loss ?? this.doc.loss;
    this.doc.accuracy = p.accuracy ?? this.doc.accuracy;
    this.doc.samplesPerSecond = this.doc.workers.reduce((s, x) => s + (x.samplesPerSecond ?? 0), 0) || this.doc.samplesPerSecond;
  }

  finish(outcome: { succeeded: boolean; diagnostics?: string; testAccuracy?: number; model?: string }): void {
    this.doc.phase = outcome.succeeded ? 'succeeded' : 'failed';
    if (outcome.succeeded) this.doc.progress = 1;
    this.doc.diagnostics = outcome.diagnostics;
    this.doc.testAccuracy = outcome.testAccuracy;
    this.doc.model = outcome.model;
  }
}
