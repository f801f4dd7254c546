// Number formats of the training page (browser side; no DOM here).

const DASH = '–';

export function fixed(x: number | undefined, digits: number): string {
  return x === undefined || !Number.isFinite(x) ? DASH : x.toFixed(digits);
}

export function percent(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? DASH : `${(x * 100).toFixed(digits)} %`;
}

export function integer(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? DASH : Math.round(x).toLocaleString('en-US');
}

/** Learning rates span decades: three significant digits. */
export function rate(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? DASH : x.toPrecision(3);
}

export function bytes(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = x;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

export function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
