// The one-line progress display of `horn train --local` and `horn submit`: pure formatting, plus
// a printer that redraws the line on a terminal and prints a line now and then otherwise.

export interface ProgressView {
  /** YARN state or local phase, e.g. RUNNING, reading, training. */
  readonly state?: string;
  readonly epoch?: number;
  readonly epochs?: number;
  readonly loss?: number;
  readonly accuracy?: number;
  readonly samplesPerSecond?: number;
  /** 0–1 */
  readonly progress?: number;
  readonly link?: string;
}

export function formatProgress(v: ProgressView, width = 20): string {
  const parts: string[] = [];
  if (v.state) parts.push(v.state.padEnd(8));
  if (v.progress !== undefined) {
    const filled = Math.round(Math.min(1, Math.max(0, v.progress)) * width);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(v.progress * 100).toFixed(0).padStart(3)}%`);
  }
  if (v.epoch !== undefined && v.epochs !== undefined) parts.push(`epoch ${v.epoch}/${v.epochs}`);
  if (v.loss !== undefined) parts.push(`loss ${v.loss.toFixed(4)}`);
  if (v.accuracy !== undefined) parts.push(`acc ${(v.accuracy * 100).toFixed(2)}%`);
  if (v.samplesPerSecond !== undefined) parts.push(`${Math.round(v.samplesPerSecond).toLocaleString('en-US')} samples/s`);
  if (v.link) parts.push(v.link);
  return parts.join('  ');
}

export class ProgressPrinter {
  private lastLine = '';
  private lastPrinted = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly everyMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  update(view: ProgressView): void {
    const line = formatProgress(view);
    if (line === this.lastLine) return;
    this.lastLine = line;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line.slice(0, (this.out.columns ?? 200) - 1)}`);
    } else if (this.now() - this.lastPrinted >= this.everyMs) {
      this.out.write(`${line}\n`);
      this.lastPrinted = this.now();
    }
  }

  /** Ends the live line (a terminal keeps it; elsewhere the last state is printed once more). */
  done(): void {
    if (this.out.isTTY) this.out.write('\n');
    else if (this.lastLine) this.out.write(`${this.lastLine}\n`);
    this.lastLine = '';
  }
}
