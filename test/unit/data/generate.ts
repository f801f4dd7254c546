// Test-data generators: small files in every format, with the awkward cases the range rule must
// survive (CRLF, blank lines, no final newline, a header, long and short lines).
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();

export interface Generated {
  bytes: Uint8Array;
  /** Label and features of every record, in file order. */
  records: { label: number; features: number[] }[];
}

export function makeCsv(rand: () => number, opts: { rows: number; features: number; header: boolean; crlf: boolean; blankLines: boolean; finalNewline: boolean; delimiter: string; labelLast: boolean }): Generated {
  const nl = opts.crlf ? '\r\n' : '\n';
  const lines: string[] = [];
  const records: Generated['records'] = [];
  if (opts.header) lines.push([...Array(opts.features + 1).keys()].map((i) => `col${i}`).join(opts.delimiter));
  for (let r = 0; r < opts.rows; r++) {
    const label = Math.floor(rand() * 3);
    const features = Array.from({ length: opts.features }, () => Math.round(rand() * 1000) / (rand() < 0.5 ? 10 : 1));
    records.push({ label, features });
    const cells = opts.labelLast ? [...features, label] : [label, ...features];
    lines.push(cells.join(opts.delimiter));
    if (opts.blankLines && rand() < 0.2) lines.push('');
  }
  const text = lines.join(nl) + (opts.finalNewline ? nl : '');
  return { bytes: enc.encode(text), records };
}

export function makeLibsvm(rand: () => number, opts: { rows: number; features: number; finalNewline: boolean }): Generated {
  const lines: string[] = [];
  const records: Generated['records'] = [];
  for (let r = 0; r < opts.rows; r++) {
    const label = Math.floor(rand() * 4);
    const features = new Array<number>(opts.features).fill(0);
    const parts = [String(label)];
    for (let i = 0; i < opts.features; i++) {
      if (rand() < 0.4) {
        const v = Math.round(rand() * 100) / 4;
        features[i] = v;
        parts.push(`${i + 1}:${v}`);
      }
    }
    records.push({ label, features });
    lines.push(parts.join(rand() < 0.3 ? '  ' : ' '));
  }
  return { bytes: enc.encode(lines.join('\n') + (opts.finalNewline ? '\n' : '')), records };
}

export function makeIdxPair(rand: () => number, count: number, rows: number, cols: number): { images: Uint8Array; labels: Uint8Array; records: Generated['records'] } {
  const images = new Uint8Array(16 + count * rows * cols);
  const iv = new DataView(images.buffer);
  iv.setUint32(0, 0x00000803);
  iv.setUint32(4, count);
  iv.setUint32(8, rows);
  iv.setUint32(12, cols);
  const labels = new Uint8Array(8 + count);
  const lv = new DataView(labels.buffer);
  lv.setUint32(0, 0x00000801);
  lv.setUint32(4, count);
  const records: Generated['records'] = [];
  for (let k = 0; k < count; k++) {
    const features: number[] = [];
    for (let p = 0; p < rows * cols; p++) {
      const b = Math.floor(rand() * 256);
      images[16 + k * rows * cols + p] = b;
      features.push(b);
    }
    const label = Math.floor(rand() * 10);
    labels[8 + k] = label;
    records.push({ label, features });
  }
  return { images, labels, records };
}
