// The one-line progress display of `horn train --local` and `horn submit`: pure formatting, plus
// a printer that redraws the line on a terminal and prints a line now and then otherwise.

export interface ProgressView {
  /** YARN state or phase, e.g. RUNNING, reading, training, evaluating, done. */
  readonly state?: string;
  readonly epoch?: number;
  readonly epochs?: number;
  readonly loss?: number;
  readonly accuracy?: number;
  readonly samplesPerSecond?: number;
  /** The newest per-epoch validation accuracy. */
  readonly validationAccuracy?: number;
  /** Distributed jobs: workers training, of all. */
  readonly workersUp?: number;
  readonly workers?: number;
  /** 0–1 */
  readonly progress?: number;
  readonly link?: string;
}

export function formatProgress(v: ProgressView, width = 20): string {
  const parts: string[] = [];
  if (v.state) parts.push(v.state.padEnd(8));
  if (v.progress !== undefined) {
    const fraction = Math.min(1, Math.max(0, v.progress));
    const filled = Math.round(fraction * width);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`);
  }
  if (v.epoch !== undefined && v.epochs !== undefined) parts.push(`epoch ${v.epoch}/${v.epochs}`);
  if (v.loss !== undefined) parts.push(`loss ${v.loss.toFixed(4)}`);
  if (v.accuracy !== undefined) parts.push(`acc ${(v.accuracy * 100).toFixed(2)}%`);
  if (v.validationAccuracy !== undefined) parts.push(`val ${(v.validationAccuracy * 100).toFixed(2)}%`);
  if (v.samplesPerSecond !== undefined) parts.push(`${Math.round(v.samplesPerSecond).toLocaleString('en-US')} samples/s`);
  if (v.workers !== undefined) parts.push(`${v.workersUp ?? 0}/${v.workers} workers`);
  if (v.link) parts.push(v.link);
  return parts.join('  ');
}

/** Terminals that report no width (0 columns, e.g. some CI pseudo-terminals) get this one. */
export const FALLBACK_COLUMNS = 80;

/** The line cut to fit a terminal of `columns` (one column is left for the cursor). */
export function fitToTerminal(line: string, columns: number | undefined): string {
  const width = columns && columns > 1 ? columns : FALLBACK_COLUMNS;
  return line.slice(0, width - 1);
}

export class ProgressPrinter {
  private view: ProgressView = {};
  private lastLine = '';
  private lastPrintedLine = '';
  private lastPrinted = -Infinity;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly everyMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Updates the fields given (undefined ones are not given); the others (bar, epoch…) stay, so a phase change keeps them. */
  update(change: ProgressView): void {
    this.view = { ...this.view, ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) };
    const line = formatProgress(this.view);
    if (line === this.lastLine) return;
    this.lastLine = line;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${fitToTerminal(line, this.out.columns)}`);
    } else if (this.now() - this.lastPrinted >= this.everyMs) {
      this.print(line);
    }
  }

  /**
   * Ends the live line, with a last `change` (e.g. state done at 100 %), or with `final` in place
   * of everything shown so far: a terminal keeps it; elsewhere it is printed unless it was the
   * last line printed.
   */
  done(change: ProgressView = {}, final = false): void {
    if (final) this.view = {};
    if (Object.keys(change).length) this.update(change);
    if (this.out.isTTY) {
      if (this.lastLine) this.out.write('\n');
    } else if (this.lastLine && this.lastLine !== this.lastPrintedLine) {
      this.print(this.lastLine);
    }
    this.view = {};
    this.lastLine = '';
  }

  private print(line: string): void {
    this.out.write(`${line}\n`);
    this.lastPrintedLine = line;
    this.lastPrinted = this.now();
  }
}
