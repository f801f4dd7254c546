// What a finished job reports. The ApplicationMaster's final diagnostics end with one line of
// RESULT_MARKER + JSON, which the client parses: the RM keeps diagnostics after the AM is gone.
import type { ConsistencyMode, ContainerView, StalenessStats } from './status';

export interface JobResult {
  readonly testAccuracy?: number;
  readonly testLoss?: number;
  /** Test records evaluated (summed over the workers). */
  readonly testSamples?: number;
  readonly model?: string;
  readonly epochs?: number;
  /** Training wall time. */
  readonly seconds?: number;
  /** Training samples per second of the whole job. */
  readonly samplesPerSecond?: number;
  readonly workers?: number;
  readonly groups?: number;
  readonly servers?: number;
  readonly consistency?: { readonly mode: ConsistencyMode; readonly staleness?: number };
  readonly wire?: 'fp32' | 'fp16';
  /** Training bytes read node-locally and remotely, over all workers. */
  readonly bytes?: { readonly local: number; readonly remote: number };
  /** Tensor bytes a worker sent per step (mean over workers). */
  readonly wireBytesPerStep?: number;
  readonly staleness?: StalenessStats;
  readonly containers?: readonly ContainerView[];
  /** Containers lost during the run (replaced, or the one that ended it), in order. */
  readonly failures?: readonly string[];
  /** The newest complete checkpoint. */
  readonly checkpoint?: { readonly clock: number; readonly epoch: number; readonly at: number; readonly files: number; readonly bytes: number };
  readonly rollbacks?: ReadonlyArray<{ readonly at: number; readonly clock: number; readonly reason: string }>;
}

export const RESULT_MARKER = 'horn-result: ';

export function resultLine(result: JobResult): string {
  return `${RESULT_MARKER}${JSON.stringify(result)}`;
}

/** The result in an application's final diagnostics, if any. */
export function parseResult(diagnostics: string | undefined): JobResult | undefined {
  const line = diagnostics?.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (!line) return undefined;
  try {
    const r: unknown = JSON.parse(line.slice(RESULT_MARKER.length));
    return r && typeof r === 'object' ? (r as JobResult) : undefined;
  } catch {
    return undefined;
  }
}

/** Diagnostics without the result line, for people. */
export function diagnosticsText(diagnostics: string | undefined): string | undefined {
  const text = diagnostics?.split('\n').filter((l) => !l.startsWith(RESULT_MARKER)).join('\n').trim();
  return text || undefined;
}
