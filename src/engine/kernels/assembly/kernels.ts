// @ts-nocheck -- AssemblyScript, compiled by asc (scripts/build.mjs), not by tsc: its types (v128, usize, f32x4) and @inline are asc built-ins.
// AssemblyScript source of horn's WebAssembly kernels. scripts/build.mjs compiles it twice:
// build/kernels.wasm with SIMD128 only, and build/kernels-relaxed.wasm with relaxed SIMD, where
// ASC_FEATURE_RELAXED_SIMD is true and every multiply-add becomes one fused instruction.
//
// Every pointer is a byte offset into the imported memory; the JavaScript side (../wasm.ts)
// owns allocation, so this module never allocates. Arrays are row-major fp32.

// ---------------------------------------------------------------------------------------------
// Matrix products
// ---------------------------------------------------------------------------------------------

// Register tile: MR = 6 rows of C by NR = 8 columns (two vectors): 12 accumulators, two B
// vectors and one broadcast fit the 16 vector registers V8 has on x64 without spilling, and
// each step does 12 multiply-adds for 8 loads (4×8 did 8 for 6; measured ~7% faster with FMA).
const NR: i32 = 8;
const MR: i32 = 6;

// Partial tiles (6×8, or 12×4 in the narrow kernel) are written here and copied element-wise.
const EDGE_TILE: usize = memory.data(MR * NR * 4, 16);

@inline function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(f32x4.mul(a, b), acc);
}

@inline function storeRow(dst: usize, lo: v128, hi: v128, accumulate: bool): void {
  if (accumulate) {
    lo = f32x4.add(lo, v128.load(dst));
    hi = f32x4.add(hi, v128.load(dst, 16));
  }
  v128.store(dst, lo);
  v128.store(dst, hi, 16);
}

/** Copies the leading rows×cols of the tile at EDGE_TILE (rows of `width` floats) into C. */
function storeEdge(c: usize, ldc: usize, width: i32, rows: i32, cols: i32, accumulate: bool): void {
  for (let r = 0; r < rows; r++) {
    const dst = c + <usize>r * ldc;
    const src = EDGE_TILE + <usize>(r * width * 4);
    for (let j = 0; j < cols; j++) {
      const o = <usize>(j << 2);
      const v = load<f32>(src + o);
      store<f32>(dst + o, accumulate ? load<f32>(dst + o) + v : v);
    }
  }
}

/**
 * C[rows×cols] (+)= A·Bpanel for one register tile. The six rows of A for step p are the
 * consecutive floats at a + p·aStep (a packed strip, or Aᵀ read in place), so one pointer
 * with immediate offsets addresses them. `bp` is a packed B panel: k groups of 8 floats.
 * Rows ≥ `rows` and columns ≥ `cols` are computed but not stored.
 */
function tile6x8(a: usize, aStep: usize, bp: usize, k: i32, c: usize, ldc: usize, rows: i32, cols: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  // Not unrolled: TurboFan schedules the loads of an unrolled body ahead of its multiply-adds,
  // which runs out of vector registers and spills accumulators to the stack.
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    x = v128.load32_splat(a, 16);
    c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
    x = v128.load32_splat(a, 20);
    c50 = madd(x, b0, c50); c51 = madd(x, b1, c51);
    a += aStep;
    bp += 32;
  }
  if (rows == MR && cols == NR) {
    storeRow(c, c00, c01, accumulate);
    storeRow(c + ldc, c10, c11, accumulate);
    storeRow(c + 2 * ldc, c20, c21, accumulate);
    storeRow(c + 3 * ldc, c30, c31, accumulate);
    storeRow(c + 4 * ldc, c40, c41, accumulate);
    storeRow(c + 5 * ldc, c50, c51, accumulate);
    return;
  }
  const t = EDGE_TILE;
  v128.store(t, c00); v128.store(t, c01, 16);
  v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80);
  v128.store(t, c30, 96); v128.store(t, c31, 112);
  v128.store(t, c40, 128); v128.store(t, c41, 144);
  v128.store(t, c50, 160); v128.store(t, c51, 176);
  storeEdge(c, ldc, NR, rows, cols, accumulate);
}

/**
 * C[rows×cols] (+)= A·Bpanel for a tile of 12 rows by 4 columns, used for a last panel of at
 * most four columns (n = 10 would otherwise waste 6 of 16 columns). The rows are two strips
 * that advance `step` bytes per k, at a and a + second; `bp` holds k groups of 4 floats.
 * Few general registers are live (one A pointer, an end pointer for the loop): with two
 * pointers, two steps and a counter V8 spilled the B pointer and ran at half speed.
 */
function tile12x4(a: usize, second: usize, step: usize, bp: usize, k: i32, c: usize, ldc: usize, rows: i32, cols: i32, accumulate: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  let c8 = f32x4.splat(0), c9 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  const end = bp + (<usize>k << 4);
  while (bp < end) {
    const b = v128.load(bp);
    c0 = madd(v128.load32_splat(a), b, c0);
    c1 = madd(v128.load32_splat(a, 4), b, c1);
    c2 = madd(v128.load32_splat(a, 8), b, c2);
    c3 = madd(v128.load32_splat(a, 12), b, c3);
    c4 = madd(v128.load32_splat(a, 16), b, c4);
    c5 = madd(v128.load32_splat(a, 20), b, c5);
    const a1 = a + second;
    c6 = madd(v128.load32_splat(a1), b, c6);
    c7 = madd(v128.load32_splat(a1, 4), b, c7);
    c8 = madd(v128.load32_splat(a1, 8), b, c8);
    c9 = madd(v128.load32_splat(a1, 12), b, c9);
    c10 = madd(v128.load32_splat(a1, 16), b, c10);
    c11 = madd(v128.load32_splat(a1, 20), b, c11);
    a += step;
    bp += 16;
  }
  const t = EDGE_TILE;
  v128.store(t, c0); v128.store(t, c1, 16); v128.store(t, c2, 32); v128.store(t, c3, 48);
  v128.store(t, c4, 64); v128.store(t, c5, 80); v128.store(t, c6, 96); v128.store(t, c7, 112);
  v128.store(t, c8, 128); v128.store(t, c9, 144); v128.store(t, c10, 160); v128.store(t, c11, 176);
  storeEdge(c, ldc, 4, rows, cols, accumulate);
}

@inline function transpose4x4Store(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + stride, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs columns j0..j0+cols of the k×n operand B into `dst` as k groups of 8 floats (columns
 * past `cols` are zero). With transB, B is stored n×k and the panel is a transpose of 8 rows.
 */
function packPanel(transB: bool, b: usize, dst: usize, k: i32, n: i32, j0: i32, cols: i32): void {
  if (!transB) {
    let src = b + (<usize>j0 << 2);
    const ldb = <usize>n << 2;
    if (cols == NR) {
      for (let p = 0; p < k; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldb;
        dst += 32;
      }
    } else {
      for (let p = 0; p < k; p++) {
        v128.store(dst, f32x4.splat(0));
        v128.store(dst, f32x4.splat(0), 16);
        for (let j = 0; j < cols; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
        src += ldb;
        dst += 32;
      }
    }
    return;
  }
  const ldb = <usize>k << 2;
  const rowsBase = b + <usize>j0 * ldb;
  if (cols == NR) {
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const s = rowsBase + (<usize>p << 2);
      const d = dst + (<usize>p << 5);
      transpose4x4Store(v128.load(s), v128.load(s + ldb), v128.load(s + 2 * ldb), v128.load(s + 3 * ldb), d, 32);
      const s4 = s + 4 * ldb;
      transpose4x4Store(v128.load(s4), v128.load(s4 + ldb), v128.load(s4 + 2 * ldb), v128.load(s4 + 3 * ldb), d + 16, 32);
    }
    for (; p < k; p++) {
      const d = dst + (<usize>p << 5);
      for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), load<f32>(rowsBase + <usize>j * ldb + (<usize>p << 2)));
    }
    return;
  }
  for (let p = 0; p < k; p++) {
    const d = dst + (<usize>p << 5);
    v128.store(d, f32x4.splat(0));
    v128.store(d, f32x4.splat(0), 16);
    for (let j = 0; j < cols; j++) store<f32>(d + (<usize>j << 2), load<f32>(rowsBase + <usize>j * ldb + (<usize>p << 2)));
  }
}

/** Columns j0..j0+cols (cols ≤ 4) of op(B) into `dst` as k groups of 4 floats, zero past `cols`. */
function packNarrowPanel(transB: bool, b: usize, dst: usize, k: i32, n: i32, j0: i32, cols: i32): void {
  for (let p = 0; p < k; p++) {
    const d = dst + (<usize>p << 4);
    v128.store(d, f32x4.splat(0));
    for (let j = 0; j < cols; j++) {
      const at = transB ? <usize>(j0 + j) * <usize>k + <usize>p : <usize>p * <usize>n + <usize>(j0 + j);
      store<f32>(d + (<usize>j << 2), load<f32>(b + (at << 2)));
    }
  }
}

/**
 * Packs rows i0..i0+rows of op(A) into `dst` as k groups of MR floats (rows past `rows` are
 * zero). Without transA, A is stored m×k and a full strip is transposed four steps at a time.
 */
function packStrip(transA: bool, a: usize, dst: usize, m: i32, k: i32, i0: i32, rows: i32): void {
  const group = <usize>(MR << 2);
  if (transA) {
    const lda = <usize>m << 2;
    let src = a + (<usize>i0 << 2);
    for (let p = 0; p < k; p++) {
      for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>r << 2)) : 0);
      src += lda;
      dst += group;
    }
    return;
  }
  const lda = <usize>k << 2;
  const base = a + <usize>i0 * lda;
  let p = 0;
  if (rows == MR) {
    for (; p + 3 < k; p += 4) {
      const s = base + (<usize>p << 2);
      const d = dst + <usize>p * group;
      // Rows 0-3 of steps p..p+3 by a 4×4 transpose (the first 16 bytes of each 24-byte
      // group), rows 4-5 interleaved into pairs and stored 8 bytes per group.
      transpose4x4Store(v128.load(s), v128.load(s + lda), v128.load(s + 2 * lda), v128.load(s + 3 * lda), d, group);
      const v4 = v128.load(s + 4 * lda);
      const v5 = v128.load(s + 5 * lda);
      const lo = i32x4.shuffle(v4, v5, 0, 4, 1, 5);
      const hi = i32x4.shuffle(v4, v5, 2, 6, 3, 7);
      v128.store64_lane(d, lo, 0, 16);
      v128.store64_lane(d + group, lo, 1, 16);
      v128.store64_lane(d + 2 * group, hi, 0, 16);
      v128.store64_lane(d + 3 * group, hi, 1, 16);
    }
  }
  for (; p < k; p++) {
    const d = dst + <usize>p * group;
    for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(base + <usize>r * lda + (<usize>p << 2)) : 0);
  }
}

/**
 * Floats of scratch that gemm needs: one packed panel of B, plus A packed into MR-row strips
 * (only the ragged last strip when A is stored transposed).
 */
export function gemmScratchFloats(transA: i32, m: i32, k: i32): i32 {
  const strips = transA ? 1 : (m + MR - 1) / MR;
  return NR * k + strips * MR * k;
}

// A narrow B (the output layer: n = 10) leaves the tiled kernel packing A for one or two 8-wide
// panels, which costs as much as the product. For n ≤ DOT_MAX_N and A stored m×k, C is instead
// computed as dot products: A's rows are read in place, B's columns are packed once as rows of a
// zero-padded (n rounded up to 4)×k block, and each step of the inner loop multiplies 2 rows of
// A with 4 columns of B into 8 accumulators.
const DOT_MAX_N: i32 = 12;

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function putDot(c: usize, value: f32, accumulate: bool): void {
  store<f32>(c, accumulate ? load<f32>(c) + value : value);
}

/** Rows i and i+1 of A (a0, a1; a1 may repeat a0 for a last odd row) by 4 packed columns of B. */
function dot2x4(a0: usize, a1: usize, bt: usize, k: i32, c: usize, ldc: usize, rows: i32, cols: i32, accumulate: bool): void {
  const kb = <usize>k << 2;
  const b1 = bt + kb, b2 = b1 + kb, b3 = b2 + kb;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  const end = <usize>(k & ~3) << 2;
  for (let p: usize = 0; p < end; p += 16) {
    const x0 = v128.load(a0 + p), x1 = v128.load(a1 + p);
    const y0 = v128.load(bt + p), y1 = v128.load(b1 + p), y2 = v128.load(b2 + p), y3 = v128.load(b3 + p);
    c00 = madd(x0, y0, c00); c01 = madd(x0, y1, c01); c02 = madd(x0, y2, c02); c03 = madd(x0, y3, c03);
    c10 = madd(x1, y0, c10); c11 = madd(x1, y1, c11); c12 = madd(x1, y2, c12); c13 = madd(x1, y3, c13);
  }
  let s00 = hsum(c00), s01 = hsum(c01), s02 = hsum(c02), s03 = hsum(c03);
  let s10 = hsum(c10), s11 = hsum(c11), s12 = hsum(c12), s13 = hsum(c13);
  for (let p = end; p < kb; p += 4) {
    const x0 = load<f32>(a0 + p), x1 = load<f32>(a1 + p);
    const y0 = load<f32>(bt + p), y1 = load<f32>(b1 + p), y2 = load<f32>(b2 + p), y3 = load<f32>(b3 + p);
    s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
    s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
  }
  putDot(c, s00, accumulate);
  if (cols > 1) putDot(c + 4, s01, accumulate);
  if (cols > 2) putDot(c + 8, s02, accumulate);
  if (cols > 3) putDot(c + 12, s03, accumulate);
  if (rows < 2) return;
  const d = c + ldc;
  putDot(d, s10, accumulate);
  if (cols > 1) putDot(d + 4, s11, accumulate);
  if (cols > 2) putDot(d + 8, s12, accumulate);
  if (cols > 3) putDot(d + 12, s13, accumulate);
}

function gemmNarrow(transB: bool, a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: bool, bt: usize): void {
  const kb = <usize>k << 2;
  const n4 = (n + 3) & ~3;
  for (let j = 0; j < n4; j++) {
    const row = bt + <usize>j * kb;
    if (j >= n) memory.fill(row, 0, kb);
    else if (transB) memory.copy(row, b + <usize>j * kb, kb);
    else for (let p = 0; p < k; p++) store<f32>(row + (<usize>p << 2), load<f32>(b + ((<usize>p * <usize>n + <usize>j) << 2)));
  }
  const ldc = <usize>n << 2;
  for (let i = 0; i < m; i += 2) {
    const a0 = a + <usize>i * kb;
    const rows = min(2, m - i);
    const a1 = rows == 2 ? a0 + kb : a0;
    for (let j = 0; j < n; j += 4) {
      dot2x4(a0, a1, bt + <usize>j * kb, k, c + <usize>i * ldc + (<usize>j << 2), ldc, rows, min(4, n - j), accumulate);
    }
  }
}

/**
 * C(m×n) (+)= op(A)·op(B). transA: A is stored k×m (else m×k); transB: B is stored n×k (else
 * k×n). Packing makes the transposed products run the same inner loop as A·B: each 8-column
 * panel of B is packed (and kept hot in L1 while every row strip streams past it), and A is
 * packed into 6-row strips once per call unless it is stored transposed, where the six
 * floats a strip needs per step are already adjacent. `scratch` holds gemmScratchFloats floats.
 */
export function gemm(transA: i32, transB: i32, a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: i32, scratch: usize): void {
  if (m <= 0 || n <= 0) return;
  const acc = accumulate != 0;
  if (k <= 0) {
    if (!acc) memory.fill(c, 0, <usize>m * <usize>n * 4);
    return;
  }
  if (!transA && n <= DOT_MAX_N) {
    // gemmScratchFloats gives at least NR·k + MR·k = 14k floats here, room for the 12k of B.
    gemmNarrow(transB != 0, a, b, c, m, k, n, acc, scratch);
    return;
  }
  const panel = scratch;
  const packedA = scratch + (<usize>(NR * k) << 2);
  const stripBytes = <usize>(MR * k) << 2;
  const strips = (m + MR - 1) / MR;
  const fullStrips = m / MR;
  if (transA) {
    // Only a ragged last strip needs packing: reading it in place would run past A's end.
    if (fullStrips < strips) packStrip(true, a, packedA, m, k, fullStrips * MR, m - fullStrips * MR);
  } else {
    for (let s = 0; s < strips; s++) packStrip(false, a, packedA + <usize>s * stripBytes, m, k, s * MR, min(MR, m - s * MR));
  }
  // Strip s starts at stripBase + s·stripStride and advances stripStep bytes per k, except a
  // ragged last strip of a transposed A, which was packed.
  const stripBase = transA ? a : packedA;
  const stripStride: usize = transA ? <usize>(MR << 2) : stripBytes;
  const stripStep: usize = transA ? <usize>m << 2 : <usize>(MR << 2);
  const packedStep = <usize>(MR << 2);
  const ldc = <usize>n << 2;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const cols = min(NR, n - j0);
    const cj = c + (<usize>j0 << 2);
    if (cols <= 4) {
      packNarrowPanel(transB != 0, b, panel, k, n, j0, cols);
      // Pairs of strips read in place (or packed); a ragged packed strip of a transposed A
      // advances differently from the others, so it goes alone, paired with itself.
      const direct = transA ? fullStrips : strips;
      let s = 0;
      for (; s + 1 < direct; s += 2) {
        tile12x4(stripBase + <usize>s * stripStride, stripStride, stripStep, panel, k,
          cj + <usize>(s * MR) * ldc, ldc, min(2 * MR, m - s * MR), cols, acc);
      }
      if (s < direct) {
        tile12x4(stripBase + <usize>s * stripStride, 0, stripStep, panel, k, cj + <usize>(s * MR) * ldc, ldc, min(MR, m - s * MR), cols, acc);
        s++;
      }
      if (s < strips) tile12x4(packedA, 0, packedStep, panel, k, cj + <usize>(s * MR) * ldc, ldc, m - s * MR, cols, acc);
      continue;
    }
    packPanel(transB != 0, b, panel, k, n, j0, cols);
    for (let s = 0; s < fullStrips; s++) {
      tile6x8(stripBase + <usize>s * stripStride, stripStep, panel, k, cj + <usize>(s * MR) * ldc, ldc, MR, cols, acc);
    }
    if (fullStrips < strips) {
      const ragged = transA ? packedA : packedA + <usize>fullStrips * stripBytes;
      tile6x8(ragged, packedStep, panel, k, cj + <usize>(fullStrips * MR) * ldc, ldc, m - fullStrips * MR, cols, acc);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Elementwise work. Loops run four lanes at a time and finish the last length % 4 elements
// with the same vector code on a splatted scalar, so the tail computes exactly like the body.
// ---------------------------------------------------------------------------------------------

// exp(x) for four lanes: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by a degree-7 polynomial
// (Cephes' expf coefficients, ~1 ulp), 2^n built in the exponent bits. The clamp keeps 2^n a
// normal float: exp saturates at e^88 and at e^-87 instead of overflowing or going to zero.
// pmin/pmax and the round-by-adding-1.5·2^23 trick are single instructions, where min/max
// (NaN-propagating), nearest and trunc_sat each expand to several on x64.
@inline function expv(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const magic = f32x4.splat(12582912.0); // 1.5·2^23: adding it rounds to an integer in the low bits
  const shifted = madd(x, f32x4.splat(1.44269504088896341), magic);
  const n = f32x4.sub(shifted, magic);
  let r = madd(n, f32x4.splat(-0.693359375), x);
  r = madd(n, f32x4.splat(2.12194440e-4), r);
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  // The integer n sits in the low mantissa bits of `shifted`; move it into the exponent.
  const scale = i32x4.shl(i32x4.add(i32x4.sub(shifted, magic), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

@inline function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

// tanh(|x|) = (1 − e)/(1 + e) with e = exp(−2|x|) loses relative accuracy near 0 where 1 − e
// cancels, so |x| < 0.25 uses the odd Taylor series through x⁹ (truncation error < 1e-8).
@inline function tanhv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const e = expv(f32x4.mul(ax, f32x4.splat(-2)));
  const one = f32x4.splat(1);
  const big = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  const x2 = f32x4.mul(ax, ax);
  let s = f32x4.splat(<f32>(62.0 / 2835.0));
  s = madd(s, x2, f32x4.splat(<f32>(-17.0 / 315.0)));
  s = madd(s, x2, f32x4.splat(<f32>(2.0 / 15.0)));
  s = madd(s, x2, f32x4.splat(<f32>(-1.0 / 3.0)));
  const small = madd(f32x4.mul(s, x2), ax, ax);
  const magnitude = v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.25)));
  // Copy the sign of x onto the magnitude.
  return v128.or(magnitude, v128.and(x, i32x4.splat(0x80000000)));
}

const ACT_IDENTITY: i32 = 0;
const ACT_RELU: i32 = 1;
const ACT_LEAKY_RELU: i32 = 2;
const ACT_SIGMOID: i32 = 3;
const ACT_TANH: i32 = 4;

@inline function activatev(kind: i32, x: v128, alpha: v128): v128 {
  if (kind == ACT_RELU) return f32x4.pmax(f32x4.splat(0), x); // 0 < x ? x : 0, so NaN gives 0 like the reference
  if (kind == ACT_LEAKY_RELU) return v128.bitselect(x, f32x4.mul(x, alpha), f32x4.gt(x, f32x4.splat(0)));
  if (kind == ACT_SIGMOID) return sigmoidv(x);
  if (kind == ACT_TANH) return tanhv(x);
  return x;
}

// The derivative from the activation's output y, times dy.
@inline function activateBackwardv(kind: i32, y: v128, dy: v128, alpha: v128): v128 {
  const one = f32x4.splat(1);
  if (kind == ACT_RELU) return v128.and(dy, f32x4.gt(y, f32x4.splat(0)));
  if (kind == ACT_LEAKY_RELU) return v128.bitselect(dy, f32x4.mul(dy, alpha), f32x4.gt(y, f32x4.splat(0)));
  if (kind == ACT_SIGMOID) return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(one, y)));
  if (kind == ACT_TANH) return f32x4.mul(dy, f32x4.sub(one, f32x4.mul(y, y)));
  return dy;
}

// Separate loops per kind keep the branch out of the element loop.
@inline function activateLoop(kind: i32, x: usize, y: usize, length: i32, alpha: f32): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, activatev(kind, v128.load(x + o), a));
  }
  for (; i < length; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(activatev(kind, f32x4.splat(load<f32>(x + o)), a), 0));
  }
}

export function activate(kind: i32, x: usize, y: usize, length: i32, alpha: f32): void {
  if (kind == ACT_RELU) activateLoop(ACT_RELU, x, y, length, alpha);
  else if (kind == ACT_LEAKY_RELU) activateLoop(ACT_LEAKY_RELU, x, y, length, alpha);
  else if (kind == ACT_SIGMOID) activateLoop(ACT_SIGMOID, x, y, length, alpha);
  else if (kind == ACT_TANH) activateLoop(ACT_TANH, x, y, length, alpha);
  else if (x != y) memory.copy(y, x, <usize>length << 2);
}

@inline function activateBackwardLoop(kind: i32, y: usize, dy: usize, dx: usize, length: i32, alpha: f32): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, activateBackwardv(kind, v128.load(y + o), v128.load(dy + o), a));
  }
  for (; i < length; i++) {
    const o = <usize>i << 2;
    const v = activateBackwardv(kind, f32x4.splat(load<f32>(y + o)), f32x4.splat(load<f32>(dy + o)), a);
    store<f32>(dx + o, f32x4.extract_lane(v, 0));
  }
}

export function activateBackward(kind: i32, y: usize, dy: usize, dx: usize, length: i32, alpha: f32): void {
  if (kind == ACT_RELU) activateBackwardLoop(ACT_RELU, y, dy, dx, length, alpha);
  else if (kind == ACT_LEAKY_RELU) activateBackwardLoop(ACT_LEAKY_RELU, y, dy, dx, length, alpha);
  else if (kind == ACT_SIGMOID) activateBackwardLoop(ACT_SIGMOID, y, dy, dx, length, alpha);
  else if (kind == ACT_TANH) activateBackwardLoop(ACT_TANH, y, dy, dx, length, alpha);
  else if (dx != dy) memory.copy(dx, dy, <usize>length << 2);
}

/** dst[j] += src[j] for j < n. */
@inline function addInto(dst: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

export function addRowVector(x: usize, bias: usize, rows: i32, cols: i32): void {
  const ld = <usize>cols << 2;
  for (let r = 0; r < rows; r++) addInto(x + <usize>r * ld, bias, cols);
}

export function sumRows(x: usize, out: usize, rows: i32, cols: i32, accumulate: i32): void {
  if (accumulate == 0) memory.fill(out, 0, <usize>cols << 2);
  const ld = <usize>cols << 2;
  for (let r = 0; r < rows; r++) addInto(out, x + <usize>r * ld, cols);
}

/** Row-wise softmax into probs, grad = (probs − targets)·gradScale; returns Σ cross-entropy. */
export function softmaxCrossEntropy(logits: usize, targets: usize, probs: usize, grad: usize, rows: i32, cols: i32, gradScale: f32): f64 {
  let loss: f64 = 0;
  const ld = <usize>cols << 2;
  const scale = f32x4.splat(gradScale);
  for (let r = 0; r < rows; r++) {
    const l = logits + <usize>r * ld;
    const t = targets + <usize>r * ld;
    const pr = probs + <usize>r * ld;
    const g = grad + <usize>r * ld;
    let max: f32 = -Infinity;
    for (let j = 0; j < cols; j++) max = Mathf.max(max, load<f32>(l + (<usize>j << 2)));
    const maxv = f32x4.splat(max);
    // First pass: shifted exponentials into probs and their sum.
    let sumv = f32x4.splat(0);
    let sum: f32 = 0;
    let j = 0;
    for (; j + 3 < cols; j += 4) {
      const o = <usize>j << 2;
      const e = expv(f32x4.sub(v128.load(l + o), maxv));
      v128.store(pr + o, e);
      sumv = f32x4.add(sumv, e);
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(l + o) - max)), 0);
      store<f32>(pr + o, e);
      sum += e;
    }
    sum += f32x4.extract_lane(sumv, 0) + f32x4.extract_lane(sumv, 1) + f32x4.extract_lane(sumv, 2) + f32x4.extract_lane(sumv, 3);
    const logSum = Math.log(<f64>sum);
    const inv = f32x4.splat(<f32>(1.0 / <f64>sum));
    // Second pass: normalise, gradient, and the loss from log-probabilities (stable for tiny p).
    j = 0;
    for (; j + 3 < cols; j += 4) {
      const o = <usize>j << 2;
      const p = f32x4.mul(v128.load(pr + o), inv);
      const tv = v128.load(t + o);
      v128.store(pr + o, p);
      v128.store(g + o, f32x4.mul(f32x4.sub(p, tv), scale));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      const p = load<f32>(pr + o) * f32x4.extract_lane(inv, 0);
      store<f32>(pr + o, p);
      store<f32>(g + o, (p - load<f32>(t + o)) * gradScale);
    }
    for (let q = 0; q < cols; q++) {
      const o = <usize>q << 2;
      const tq = load<f32>(t + o);
      if (tq != 0) loss -= <f64>tq * (<f64>load<f32>(l + o) - <f64>max - logSum);
    }
  }
  return loss;
}

export function multiply(x: usize, y: usize, length: i32): void {
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(v128.load(y + o), v128.load(x + o)));
  }
  for (; i < length; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) * load<f32>(x + o));
  }
}

export function axpy(alpha: f32, x: usize, y: usize, length: i32): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, madd(a, v128.load(x + o), v128.load(y + o)));
  }
  for (; i < length; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(madd(a, f32x4.splat(load<f32>(x + o)), f32x4.splat(load<f32>(y + o))), 0));
  }
}

export function scale(x: usize, alpha: f32, length: i32): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), a));
  }
  for (; i < length; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) * alpha);
  }
}

@inline function sgdv(w: v128, g: v128, v: v128, lr: v128, mu: v128, wd: v128, nesterov: bool, vOut: usize): v128 {
  const gi = madd(wd, w, g);
  const vi = madd(mu, v, gi);
  v128.store(vOut, vi);
  const step = nesterov ? madd(mu, vi, gi) : vi;
  return f32x4.sub(w, f32x4.mul(lr, step));
}

export function sgdStep(w: usize, g: usize, v: usize, length: i32, lr: f32, momentum: f32, weightDecay: f32, nesterov: i32): void {
  const lrv = f32x4.splat(lr), mu = f32x4.splat(momentum), wd = f32x4.splat(weightDecay);
  const nest = nesterov != 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const o = <usize>i << 2;
    v128.store(w + o, sgdv(v128.load(w + o), v128.load(g + o), v128.load(v + o), lrv, mu, wd, nest, v + o));
  }
  for (; i < length; i++) {
    const o = <usize>i << 2;
    const tmp = memory.data(16, 16);
    const r = sgdv(f32x4.splat(load<f32>(w + o)), f32x4.splat(load<f32>(g + o)), f32x4.splat(load<f32>(v + o)), lrv, mu, wd, nest, tmp);
    store<f32>(v + o, load<f32>(tmp));
    store<f32>(w + o, f32x4.extract_lane(r, 0));
  }
}

@inline function adamv(w: v128, g: v128, m: usize, v: usize, b1: v128, b2: v128, rb1: v128, rb2: v128, lrc: v128, c2inv: v128, eps: v128, wd: v128): v128 {
  const gi = madd(wd, w, g);
  const mi = madd(b1, v128.load(m), f32x4.mul(rb1, gi));
  const vi = madd(b2, v128.load(v), f32x4.mul(f32x4.mul(rb2, gi), gi));
  v128.store(m, mi);
  v128.store(v, vi);
  return f32x4.sub(w, f32x4.div(f32x4.mul(lrc, mi), f32x4.add(f32x4.sqrt(f32x4.mul(vi, c2inv)), eps)));
}

/**
 * Adam. The caller computes in double precision 1 − β1 and 1 − β2 (in f32, 1 − 0.999 is off
 * by 1e-5 relative), lr/c1 and 1/c2 with the bias corrections c = 1 − β^t.
 */
export function adamStep(w: usize, g: usize, m: usize, v: usize, length: i32, beta1: f32, beta2: f32, oneMinusBeta1: f32, oneMinusBeta2: f32, epsilon: f32, weightDecay: f32, lrOverC1: f32, invC2: f32): void {
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), eps = f32x4.splat(epsilon), wd = f32x4.splat(weightDecay);
  const rb1 = f32x4.splat(oneMinusBeta1), rb2 = f32x4.splat(oneMinusBeta2);
  const lrc = f32x4.splat(lrOverC1), c2inv = f32x4.splat(invC2);
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const o = <usize>i << 2;
    v128.store(w + o, adamv(v128.load(w + o), v128.load(g + o), m + o, v + o, b1, b2, rb1, rb2, lrc, c2inv, eps, wd));
  }
  const tm = memory.data(16, 16);
  const tv = memory.data(16, 16);
  for (; i < length; i++) {
    const o = <usize>i << 2;
    v128.store(tm, f32x4.splat(load<f32>(m + o)));
    v128.store(tv, f32x4.splat(load<f32>(v + o)));
    const r = adamv(f32x4.splat(load<f32>(w + o)), f32x4.splat(load<f32>(g + o)), tm, tv, b1, b2, rb1, rb2, lrc, c2inv, eps, wd);
    store<f32>(m + o, load<f32>(tm));
    store<f32>(v + o, load<f32>(tv));
    store<f32>(w + o, f32x4.extract_lane(r, 0));
  }
}

/** First byte past this module's static data; the JavaScript allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
