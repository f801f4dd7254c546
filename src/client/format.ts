// Output helpers shared by the commands: human text to stdout, JSON as one document per line.

/** "2h03m", "4m05s", "12s" from milliseconds. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** An ISO time, or undefined for the RM's "not yet" value 0. */
export function isoTime(epochMs: number | undefined): string | undefined {
  return epochMs && epochMs > 0 ? new Date(epochMs).toISOString() : undefined;
}

/** Left-aligned columns separated by two spaces; the header row first. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `label: value` lines with the values aligned; undefined values are left out. */
export function formatFields(fields: ReadonlyArray<readonly [string, string | undefined]>): string {
  const present = fields.filter((f): f is readonly [string, string] => f[1] !== undefined && f[1] !== '');
  const width = Math.max(0, ...present.map(([k]) => k.length));
  return present.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v.replace(/\n/g, `\n${' '.repeat(width + 2)}`)}`).join('\n') + '\n';
}

export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** 0.98634 → "98.63%". */
export function percent(fraction: number, digits = 2): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** "1 epoch", "15 epochs". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
