/*
 * The Node-API face of horn's native kernels (loaded by src/engine/kernels/native.ts).
 *
 * create(memoryBytes, threads, isa) maps one zeroed, never-moving memory region and returns it
 * as an ArrayBuffer together with a handle (the kernel set and its thread pool). The JavaScript
 * side allocates arrays inside that buffer and passes byte offsets, so nothing is copied and no
 * typed array is inspected per call. Every kernel call is synchronous: it splits its output
 * into units with a fixed partition, the threads of the pool take them (take_unit), and it
 * returns when all are done.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <math.h>
#include <node_api.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include "halves.h"
#include "kernels.h"
#include "pool.h"

/* Bumped whenever a call's arguments change; the loader refuses an addon of another version. */
#define HORN_NATIVE_ABI 3

typedef struct {
  const isa_kernels *isa;
  pool *pool;
  char *base;
  size_t bytes;
  /* op(A) packed once for the threads of a product that splits its columns (grown as needed). */
  float *whole_a;
  size_t whole_a_bytes;
  /* The columns of a layer's input that are not zero in every row (skip_zero_columns), and the
   * threads' or-ed bits of them. */
  int *column_index;
  size_t column_index_bytes;
  float *column_bits;
  size_t column_bits_bytes;
  /* Cᵀ of a narrow Aᵀ·B (gemm_tn_transposed). */
  float *transposed_c;
  size_t transposed_c_bytes;
  /* Two sets of per-thread counters (take_unit), one thread's `threads` counters a set. One
   * call runs at a time per context, so its counters live here rather than in every call's job. */
  struct share_counter *shares;
} context;

/* ---------------------------------------------------------------------------------------- */
/* CPU features                                                                              */
/* ---------------------------------------------------------------------------------------- */

/* GCC's __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 registers (XCR0). */
static int has_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int has_f16c(void) {
  __builtin_cpu_init();
  return has_avx2() && __builtin_cpu_supports("f16c");
}

static int has_avx512(void) {
  __builtin_cpu_init();
  return has_avx2() && __builtin_cpu_supports("avx512f");
}

/* ---------------------------------------------------------------------------------------- */
/* Partition: contiguous, balanced, a function of (total, threads) only.                    */
/* ---------------------------------------------------------------------------------------- */

#define MIN(a, b) ((a) < (b) ? (a) : (b))

static long part(long total, long t, long parts) {
  return (long)(((__int128)total * t) / parts);
}

/*
 * How a call's units reach the threads. Thread t owns the contiguous share
 * [part(units, t, threads), part(units, t + 1, threads)) and takes its own units first, then what
 * is left of the others' shares in turn. So when every thread runs, each keeps the same part of
 * a layer's arrays from call to call (in its own cache); when one is slow, the others finish its
 * share; and when one does not start at all before the caller is done (the pool then leaves it
 * out: pool.c), the caller has taken every unit itself. Every unit is taken exactly once, and
 * what a unit computes does not depend on which thread takes it, so results do not either.
 */
typedef struct share_counter {
  _Atomic long taken;
  /* Alone on its cache line: a thread taking from its own share does not invalidate another's. */
  char pad[64 - sizeof(long)];
} share_counter;

/* Set `set` (0 or 1) of the context's counters, zeroed for a new call. */
static share_counter *fresh_shares(context *c, int set) {
  const int threads = pool_threads(c->pool);
  share_counter *s = c->shares + (size_t)set * (size_t)threads;
  for (int t = 0; t < threads; t++) atomic_store_explicit(&s[t].taken, 0, memory_order_relaxed);
  return s;
}

/* The next unit for thread tid, or -1 when all are taken; *visited starts at 0. */
static long take_unit(share_counter *shares, long units, int tid, int threads, int *visited) {
  for (; *visited < threads; ++*visited) {
    const int owner = (tid + *visited) % threads;
    const long first = part(units, owner, threads), end = part(units, owner + 1, threads);
    if (first >= end) continue;
    const long u = first + atomic_fetch_add_explicit(&shares[owner].taken, 1, memory_order_relaxed);
    if (u < end) return u;
  }
  return -1;
}

/* Units of an elementwise call, per thread: a slow thread's share is finished by the others in
 * quarters. With one thread a call is one unit. */
#define UNITS_PER_THREAD 4L

static long units_for(int threads) {
  return threads == 1 ? 1 : threads * UNITS_PER_THREAD;
}

/* Below these sizes a call runs on thread 0 alone: waking the pool would cost more than it saves.
 * (Within a training step the pool is awake and spinning, so a 64,000-element activation already gains
 * from two threads: 2% of a two-thread step in interleaved runs.) */
#define PARALLEL_GEMM_MACS 200000L
#define PARALLEL_ELEMENTS 16384L
/* Elementwise ranges start on 64-byte boundaries of the arrays. */
#define ALIGN_FLOATS 16L

static long aligned_part(long n, long t, long parts) {
  if (t == parts) return n;
  const long blocks = (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS;
  const long at = part(blocks, t, parts) * ALIGN_FLOATS;
  return at < n ? at : n;
}

/* The most threads a pool may have; MAX_KERNEL_THREADS in src/engine/kernels/index.ts. */
#define MAX_THREADS 256

typedef struct {
  const isa_kernels *isa;
  gemm_args g;
  int split_columns;
  /* Splitting columns: op(A) packed once, shared (NULL where it could not be had: one unit a thread). */
  float *whole_a;
  /* Strips of op(A) packed so far. */
  _Atomic long packed;
  /* take_unit's counters: of the strips of op(A) to pack, and of the product's units. */
  share_counter *strip_shares, *shares;
} gemm_job;

/*
 * Split by columns, a product goes GEMM_CHUNK_PANELS panels at a time. Each thread owns the same
 * contiguous share of the chunks in every call, so a layer's columns (of its output, its weights
 * and their gradient) stay with one core from step to step; a thread that finishes its share
 * early then takes what is left of the others', so a thread slowed by its neighbours (on a VM,
 * another guest on the sibling hyperthread) does not hold up the product.
 *  - Fixed halves made the product wait for the slower thread: 12–16% of a two-thread product's
 *    time on a shared 2-vCPU VM.
 *  - Chunks handed to whichever thread was free moved columns between the cores every call;
 *    owned shares ran two-thread training steps 2–11% faster than that (paired medians of
 *    ten interleaved runs, the two addons in both orders).
 *  - One panel a chunk rather than two: the last chunk, that one thread finishes while the
 *    other has none left, is half as long. Two-thread steps 0.3–1.7% faster (−0.3 to +1.7,
 *    six paired runs of forty interleaved windows each).
 * The results do not depend on the split: every element of C is the same chain of fused
 * multiply-adds whichever thread computes it (kernels.h).
 */
#define GEMM_CHUNK_PANELS 1

static void gemm_task(void *ctx, int tid, int threads, float *scratch) {
  gemm_job *job = ctx;
  const gemm_args *g = &job->g;
  const isa_kernels *isa = job->isa;
  const long mr = isa->mr, nr = isa->nr;
  const long panels = (g->n + nr - 1) / nr, strips = (g->m + mr - 1) / mr;
  int visited = 0;
  if (job->whole_a && threads > 1) {
    /* Every thread packs strips of A (its own first), then waits until all are packed (a short
     * spin: the strips still being packed are in the hands of a thread that is running). */
    long packed_here = 0;
    for (long s; (s = take_unit(job->strip_shares, strips, tid, threads, &visited)) >= 0; packed_here++) isa->pack_a_strips(g, s, s + 1, job->whole_a);
    if (packed_here > 0) atomic_fetch_add_explicit(&job->packed, packed_here, memory_order_acq_rel);
    for (unsigned spins = 1; atomic_load_explicit(&job->packed, memory_order_acquire) < strips; spins++) pool_pause(spins);
    const long chunks = (panels + GEMM_CHUNK_PANELS - 1) / GEMM_CHUNK_PANELS;
    visited = 0;
    for (long c; (c = take_unit(job->shares, chunks, tid, threads, &visited)) >= 0;) {
      const long j0 = c * GEMM_CHUNK_PANELS * nr, j1 = j0 + GEMM_CHUNK_PANELS * nr;
      isa->gemm_columns_packed(g, job->whole_a, j0, j1 < g->n ? j1 : g->n, scratch);
    }
    return;
  }
  /* Without a shared op(A), one unit a thread: each unit packs the op(A) it needs itself, and
   * finer units would pack it again and again. */
  for (long u; (u = take_unit(job->shares, threads, tid, threads, &visited)) >= 0;) {
    if (job->split_columns) {
      const long j0 = part(panels, u, threads) * nr, j1 = part(panels, u + 1, threads) * nr;
      if (j0 < j1) isa->gemm_tiles(g, 0, g->m, j0, j1 < g->n ? j1 : g->n, scratch);
    } else {
      const long i0 = part(strips, u, threads) * mr, i1 = part(strips, u + 1, threads) * mr;
      if (i0 < i1) isa->gemm_tiles(g, i0, i1 < g->m ? i1 : g->m, 0, g->n, scratch);
    }
  }
}

/* A 64-byte aligned buffer of the context, kept between calls and only ever enlarged; NULL if
 * it cannot be had (the caller then computes without it). */
static void *context_buffer(void **buffer, size_t *have, size_t bytes) {
  if (bytes > *have) {
    free(*buffer);
    *have = 0;
    if (posix_memalign(buffer, 64, bytes) != 0) {
      *buffer = NULL;
      return NULL;
    }
    *have = bytes;
  }
  return *buffer;
}

/* The shared packing of op(A) for a product, or NULL if it would not fit in WHOLE_A_MAX_FLOATS. */
#define WHOLE_A_MAX_FLOATS (16L << 20)
static float *whole_a_buffer(context *c, size_t floats) {
  if (floats > (size_t)WHOLE_A_MAX_FLOATS) return NULL;
  return context_buffer((void **)&c->whole_a, &c->whole_a_bytes, floats * sizeof(float));
}

/*
 * The scan of skip_zero_columns over a rows×cols A as stored, split over the threads the way
 * the product's packing of op(A) splits (gemm_task): row strips for A as stored, columns for a
 * transposed A (whose strips are columns). Each thread then packs what it has just read, from
 * its own cache: scanned by thread 0 alone, the other thread's packing of x took two to three
 * times as long as thread 0's, and thread 0 waited for it.
 */
typedef struct {
  const isa_kernels *isa;
  const float *a;
  long rows, cols;
  int by_columns;
  /* by_columns: one row of cols bit patterns; else one per unit, `stride` floats apart. */
  float *bits;
  long stride;
  long units;
  share_counter *shares;
} column_scan;

static void column_scan_task(void *ctx, int tid, int threads, float *scratch) {
  (void)scratch;
  const column_scan *j = ctx;
  const long mr = j->isa->mr, strips = (j->rows + mr - 1) / mr;
  int visited = 0;
  for (long u; (u = take_unit(j->shares, j->units, tid, threads, &visited)) >= 0;) {
    if (j->by_columns) {
      const long c0 = aligned_part(j->cols, u, j->units), c1 = aligned_part(j->cols, u + 1, j->units);
      if (c0 < c1) j->isa->or_columns(j->a, j->cols, 0, j->rows, c0, c1, j->bits);
    } else {
      const long r0 = part(strips, u, j->units) * mr, r1 = part(strips, u + 1, j->units) * mr;
      j->isa->or_columns(j->a, j->cols, MIN(r0, j->rows), MIN(r1, j->rows), 0, j->cols, j->bits + u * j->stride);
    }
  }
}

/* The columns of A (stored rows×cols) that are not ±0 in every row, ascending, into index;
 * returns how many, or -1 without memory for the scan. */
static long nonzero_columns(context *c, const float *a, long rows, long cols, int by_columns, int *index) {
  const int threads = pool_threads(c->pool) > 1 && rows * cols >= PARALLEL_ELEMENTS ? pool_threads(c->pool) : 1;
  const long stride = (cols + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS, units = units_for(threads);
  const long copies = by_columns ? 1 : units;
  float *bits = context_buffer((void **)&c->column_bits, &c->column_bits_bytes, (size_t)(copies * stride) * sizeof(float));
  if (!bits) return -1;
  column_scan job = { .isa = c->isa, .a = a, .rows = rows, .cols = cols, .by_columns = by_columns, .bits = bits, .stride = stride, .units = units, .shares = fresh_shares(c, 0) };
  if (threads == 1) column_scan_task(&job, 0, 1, NULL);
  else pool_run(c->pool, column_scan_task, &job);
  long kept = 0;
  for (long j = 0; j < cols; j++) {
    unsigned any = 0;
    for (long t = 0; t < copies; t++) {
      unsigned word;
      memcpy(&word, bits + t * stride + j, sizeof word);
      any |= word;
    }
    if (any) index[kept++] = (int)j;
  }
  return kept;
}

/*
 * A product whose A is a layer's input (gemm's skipZeroColumnsOfA): the columns of A, as
 * stored, that are zero in every row of the batch add nothing, so the product runs over the
 * others only (gemm_args.a_columns; the packing gathers them). A third of MNIST's pixel
 * columns are zero across a batch of 128 (the borders of the digits), so the first layer's two
 * products (x·W and xᵀ·dZ) do a third less work.
 *  - matmul (A m×k): the product over the k′ non-zero columns of A and the same rows of B;
 *  - matmulTN (A k×m, C = Aᵀ·B): only the m′ rows of C those columns give; C's other rows
 *    are zero (kept when accumulating).
 * The chains of fused multiply-adds lose only steps that add ±0 to a sum started at +0, so C
 * has the bits of the whole product (for finite B). Leaves g as it was where nothing is
 * skipped (no zero column, a transposed B, or no memory for the index).
 */
static void skip_zero_columns(context *c, gemm_args *g) {
  const long rows = g->trans_a ? g->k : g->m, cols = g->trans_a ? g->m : g->k;
  /* The packing gathers with 32-bit offsets of up to 16 rows. */
  if (g->trans_b || rows <= 0 || cols <= 0 || cols > INT_MAX / 16) return;
  int *index = context_buffer((void **)&c->column_index, &c->column_index_bytes, (size_t)cols * sizeof(int));
  if (!index) return;
  const long kept = nonzero_columns(c, g->a, rows, cols, g->trans_a, index);
  if (kept < 0 || kept == cols) return;
  g->a_columns = index;
  g->a_columns_total = cols;
  if (!g->trans_a) {
    g->k = kept;
    return;
  }
  g->m = kept;
  if (kept == 0 && !g->accumulate) memset(g->c, 0, (size_t)(cols * g->n) * sizeof(float));
}

/* One task type for the elementwise kernels: which, and their arguments. */
enum { EW_ACTIVATE, EW_BACKWARD, EW_ADD_ROW, EW_SUM_ROWS, EW_MULTIPLY, EW_DROPOUT, EW_AXPY, EW_SCALE, EW_SGD, EW_ADAM };

typedef struct {
  const isa_kernels *isa;
  int op;
  int kind;
  int flag;
  float *p[4];
  long n, rows, cols;
  float f[9];
  unsigned u[3];
  share_counter *shares;
} ew_job;

/* Unit u of `units` of an elementwise call: rows of addRowVector, columns of sumRows, else a
 * range of elements (64-byte aligned). */
static void ew_unit(const ew_job *j, long u, long units) {
  const isa_kernels *k = j->isa;
  if (j->op == EW_ADD_ROW) {
    const long r0 = part(j->rows, u, units), r1 = part(j->rows, u + 1, units);
    if (r0 < r1) k->add_row_vector(j->p[0] + r0 * j->cols, j->p[1], r1 - r0, j->cols);
    return;
  }
  if (j->op == EW_SUM_ROWS) {
    const long c0 = aligned_part(j->cols, u, units), c1 = aligned_part(j->cols, u + 1, units);
    if (c0 < c1) k->sum_rows(j->p[0], j->p[1], j->rows, j->cols, c0, c1, j->flag);
    return;
  }
  const long i0 = aligned_part(j->n, u, units), i1 = aligned_part(j->n, u + 1, units);
  const long n = i1 - i0;
  if (n <= 0) return;
  float *const *p = j->p;
  switch (j->op) {
    case EW_ACTIVATE: k->activate(j->kind, p[0] + i0, p[1] + i0, n, j->f[0]); break;
    case EW_BACKWARD: k->activate_backward(j->kind, p[0] + i0, p[1] + i0, p[2] + i0, n, j->f[0]); break;
    case EW_MULTIPLY: k->multiply(p[0] + i0, p[1] + i0, n); break;
    case EW_DROPOUT: k->dropout(p[0], p[1], p[2], i0, i1, j->u[0], j->f[0], j->u[1], j->u[2]); break;
    case EW_AXPY: k->axpy(j->f[0], p[0] + i0, p[1] + i0, n); break;
    case EW_SCALE: k->scale(p[0] + i0, j->f[0], n); break;
    case EW_SGD: k->sgd_step(p[0] + i0, p[1] + i0, p[2] + i0, n, j->f[0], j->f[1], j->f[2], j->flag); break;
    case EW_ADAM:
      k->adam_step(p[0] + i0, p[1] + i0, p[2] + i0, p[3] + i0, n, j->f[0], j->f[1], j->f[2], j->f[3], j->f[4], j->f[5], j->f[6], j->f[7]);
      break;
  }
}

static void ew_task(void *ctx, int tid, int threads, float *scratch) {
  (void)scratch;
  const ew_job *j = ctx;
  const long units = units_for(threads);
  int visited = 0;
  for (long u; (u = take_unit(j->shares, units, tid, threads, &visited)) >= 0;) ew_unit(j, u, units);
}

static void run_ew(context *c, ew_job *job, long size) {
  job->isa = c->isa;
  job->shares = fresh_shares(c, 0);
  if (size < PARALLEL_ELEMENTS || pool_threads(c->pool) == 1) ew_task(job, 0, 1, NULL);
  else pool_run(c->pool, ew_task, job);
}

/* Row-wise softmax + cross-entropy, scalar: the output layer is narrow (10 classes), so this is
 * a small part of a step; double sums keep it exact enough for any width. */
static double softmax_cross_entropy(const float *logits, const float *targets, float *probs, float *grad, long rows, long cols, float scale) {
  double loss = 0;
  for (long r = 0; r < rows; r++) {
    const float *l = logits + r * cols;
    const float *t = targets + r * cols;
    float *pr = probs + r * cols;
    float *g = grad + r * cols;
    float max = -INFINITY;
    for (long j = 0; j < cols; j++) max = l[j] > max ? l[j] : max;
    double sum = 0;
    for (long j = 0; j < cols; j++) sum += exp((double)l[j] - max);
    const double log_sum = log(sum);
    for (long j = 0; j < cols; j++) {
      const double log_p = (double)l[j] - max - log_sum;
      const float p = (float)exp(log_p);
      pr[j] = p;
      if (t[j] != 0) loss -= (double)t[j] * log_p;
      g[j] = (p - t[j]) * scale;
    }
  }
  return loss;
}

/* ---------------------------------------------------------------------------------------- */
/* Node-API glue                                                                             */
/* ---------------------------------------------------------------------------------------- */

#define MAX_ARGS 16

typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  context *c;
} call;

static int throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "HORN_NATIVE", message);
  return 0;
}

/* Reads the arguments: the handle first, then `count` more. */
static int begin(napi_env env, napi_callback_info info, size_t count, call *out) {
  out->env = env;
  out->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &out->argc, out->argv, NULL, NULL) != napi_ok) return throw_error(env, "bad call");
  if (out->argc < count + 1) return throw_error(env, "too few arguments");
  void *data = NULL;
  if (napi_get_value_external(env, out->argv[0], &data) != napi_ok || !data) return throw_error(env, "the first argument is not a kernel handle");
  out->c = data;
  return 1;
}

static double num(call *c, size_t i) {
  double v = 0;
  napi_get_value_double(c->env, c->argv[i + 1], &v);
  return v;
}

static long integer(call *c, size_t i) {
  return (long)num(c, i);
}

/* The array at the byte offset of argument i; the JavaScript side checked it lies in the memory. */
static float *ptr(call *c, size_t i) {
  return (float *)(c->c->base + (size_t)num(c, i));
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static void finalize_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  context *c = data;
  pool_destroy(c->pool);
  free(c->whole_a);
  free(c->column_index);
  free(c->column_bits);
  free(c->transposed_c);
  free(c->shares);
  free(c);
}

static void finalize_memory(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

/* create(memoryBytes, threads, isa) → [handle, ArrayBuffer] */
static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double bytes_d = 0, threads_d = 0;
  char isa_name[16] = {0};
  size_t len = 0;
  if (argc < 3 || napi_get_value_double(env, argv[0], &bytes_d) != napi_ok || napi_get_value_double(env, argv[1], &threads_d) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], isa_name, sizeof isa_name, &len) != napi_ok) {
    throw_error(env, "create(memoryBytes, threads, isa) expects two numbers and a string");
    return NULL;
  }
  const isa_kernels *isa = NULL;
  if (strcmp(isa_name, "avx512") == 0 && has_avx512()) isa = &horn_kernels_avx512;
  if (strcmp(isa_name, "avx2") == 0 && has_avx2()) isa = &horn_kernels_avx2;
  if (!isa) {
    throw_error(env, "this CPU does not support the requested instruction set");
    return NULL;
  }
  const size_t bytes = (size_t)bytes_d;
  const int threads = (int)threads_d;
  if (threads < 1 || threads > MAX_THREADS) {
    throw_error(env, "create: threads must be between 1 and 256");
    return NULL;
  }
  /* MAP_NORESERVE: pages cost memory only once touched, like the WebAssembly backends' memory. */
  void *base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    throw_error(env, "could not map the kernel memory");
    return NULL;
  }
  context *c = calloc(1, sizeof(context));
  share_counter *shares = NULL;
  if (posix_memalign((void **)&shares, 64, 2 * (size_t)threads * sizeof(share_counter)) != 0) shares = NULL;
  pool *p = c && shares ? pool_create(threads, isa->scratch_floats) : NULL;
  if (!p) {
    free(shares);
    free(c);
    munmap(base, bytes);
    throw_error(env, "could not start the kernel threads");
    return NULL;
  }
  *c = (context){ .isa = isa, .pool = p, .base = base, .bytes = bytes, .shares = shares };
  napi_value handle, buffer, result;
  if (napi_create_external(env, c, finalize_context, NULL, &handle) != napi_ok) {
    finalize_context(env, c, NULL);
    munmap(base, bytes);
    throw_error(env, "could not create the kernel handle");
    return NULL;
  }
  if (napi_create_external_arraybuffer(env, base, bytes, finalize_memory, (void *)(uintptr_t)bytes, &buffer) != napi_ok) {
    munmap(base, bytes);
    throw_error(env, "could not expose the kernel memory");
    return NULL;
  }
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, handle);
  napi_set_element(env, result, 1, buffer);
  return result;
}

/* One product on the pool (or on thread 0 alone where it is small). */
static void run_gemm(context *ctx, gemm_job *job) {
  const gemm_args *g = &job->g;
  const long panels = (g->n + job->isa->nr - 1) / job->isa->nr, strips = (g->m + job->isa->mr - 1) / job->isa->mr;
  /* Whole column panels where there are enough for every thread (each thread then packs only
   * its own B panels, measured 5–10% faster than row strips for Aᵀ·B 784×128·128×500), else row strips. */
  job->split_columns = panels >= 2L * pool_threads(ctx->pool) || panels >= strips;
  if (pool_threads(ctx->pool) == 1 || g->m * g->n * (g->k > 0 ? g->k : 1) < PARALLEL_GEMM_MACS) {
    /* Wider than one packed B block, gemm_tiles would pack op(A) again for every block of columns. */
    if (g->n > job->isa->nc && g->k > 0 && panels > 1) {
      float *whole = whole_a_buffer(ctx, job->isa->packed_a_floats(g));
      if (whole) {
        job->isa->pack_a_strips(g, 0, strips, whole);
        job->isa->gemm_columns_packed(g, whole, 0, g->n, pool_scratch(ctx->pool, 0));
        return;
      }
    }
    job->isa->gemm_tiles(g, 0, g->m, 0, g->n, pool_scratch(ctx->pool, 0));
    return;
  }
  if (job->split_columns && panels > 1 && g->k > 0) job->whole_a = whole_a_buffer(ctx, job->isa->packed_a_floats(g));
  job->strip_shares = fresh_shares(ctx, 0);
  job->shares = fresh_shares(ctx, 1);
  pool_run(ctx->pool, gemm_task, job);
}

/*
 * C = Aᵀ·B narrower than a register tile (the output layer's weight gradient, 500×10): its
 * tiles would be mostly padding. Cᵀ = Bᵀ·A is wide, so it is computed instead, in a buffer,
 * and transposed into C. Each element is the same chain of fused multiply-adds (the two
 * factors of a product swap places, which does not change it), so C has the same bits.
 * Returns 0 where it does not apply (no memory for Cᵀ).
 */
static int gemm_tn_transposed(context *ctx, const gemm_args *g) {
  const long m = g->m, n = g->n;
  float *t = context_buffer((void **)&ctx->transposed_c, &ctx->transposed_c_bytes, (size_t)(m * n) * sizeof(float));
  if (!t) return 0;
  if (g->accumulate) {
    for (long i = 0; i < m; i++)
      for (long j = 0; j < n; j++) t[j * m + i] = g->c[i * n + j];
  }
  gemm_job job = { .isa = ctx->isa, .g = { .trans_a = 1, .a = g->b, .b = g->a, .c = t, .m = n, .k = g->k, .n = m, .accumulate = g->accumulate } };
  run_gemm(ctx, &job);
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) g->c[i * n + j] = t[j * m + i];
  return 1;
}

/* gemm(h, transA, transB, a, b, c, m, k, n, accumulate, scratch (unused), skipZeroColumnsOfA) */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 9, &c)) return NULL;
  gemm_job job = {
    .isa = c.c->isa,
    .g = { .trans_a = integer(&c, 0) != 0, .trans_b = integer(&c, 1) != 0, .a = ptr(&c, 2), .b = ptr(&c, 3), .c = ptr(&c, 4),
           .m = integer(&c, 5), .k = integer(&c, 6), .n = integer(&c, 7), .accumulate = integer(&c, 8) != 0 },
  };
  const gemm_args *g = &job.g;
  if (g->m <= 0 || g->n <= 0) return undefined(env);
  if (c.argc > 11 && integer(&c, 10) != 0 && g->k > 0) skip_zero_columns(c.c, &job.g);
  if (g->m == 0) return undefined(env);
  const long nr = job.isa->nr;
  if (g->trans_a && !g->trans_b && !g->a_columns && g->k > 0 && g->n < nr && g->m >= 4 * nr && gemm_tn_transposed(c.c, g)) return undefined(env);
  run_gemm(c.c, &job);
  return undefined(env);
}

/* addRowVector(h, x, bias, rows, cols) */
static napi_value js_add_row_vector(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 4, &c)) return NULL;
  ew_job job = { .op = EW_ADD_ROW, .p = { ptr(&c, 0), ptr(&c, 1) }, .rows = integer(&c, 2), .cols = integer(&c, 3) };
  run_ew(c.c, &job, job.rows * job.cols);
  return undefined(env);
}

/* sumRows(h, x, out, rows, cols, accumulate) */
static napi_value js_sum_rows(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 5, &c)) return NULL;
  ew_job job = { .op = EW_SUM_ROWS, .p = { ptr(&c, 0), ptr(&c, 1) }, .rows = integer(&c, 2), .cols = integer(&c, 3), .flag = integer(&c, 4) != 0 };
  run_ew(c.c, &job, job.rows * job.cols);
  return undefined(env);
}

/* activate(h, kind, x, y, length, alpha) */
static napi_value js_activate(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 5, &c)) return NULL;
  ew_job job = { .op = EW_ACTIVATE, .kind = (int)integer(&c, 0), .p = { ptr(&c, 1), ptr(&c, 2) }, .n = integer(&c, 3), .f = { (float)num(&c, 4) } };
  run_ew(c.c, &job, job.n);
  return undefined(env);
}

/* activateBackward(h, kind, y, dy, dx, length, alpha) */
static napi_value js_activate_backward(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 6, &c)) return NULL;
  ew_job job = { .op = EW_BACKWARD, .kind = (int)integer(&c, 0), .p = { ptr(&c, 1), ptr(&c, 2), ptr(&c, 3) }, .n = integer(&c, 4), .f = { (float)num(&c, 5) } };
  run_ew(c.c, &job, job.n);
  return undefined(env);
}

/* softmaxCrossEntropy(h, logits, targets, probs, grad, rows, cols, gradScale) → Σ loss */
static napi_value js_softmax_cross_entropy(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 7, &c)) return NULL;
  const double loss = softmax_cross_entropy(ptr(&c, 0), ptr(&c, 1), ptr(&c, 2), ptr(&c, 3), integer(&c, 4), integer(&c, 5), (float)num(&c, 6));
  napi_value out;
  napi_create_double(env, loss, &out);
  return out;
}

/* multiply(h, x, y, length) */
static napi_value js_multiply(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 3, &c)) return NULL;
  ew_job job = { .op = EW_MULTIPLY, .p = { ptr(&c, 0), ptr(&c, 1) }, .n = integer(&c, 2) };
  run_ew(c.c, &job, job.n);
  return undefined(env);
}

/* dropout(h, x, y, mask, length, keep, key0, key1) */
static napi_value js_dropout(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 7, &c)) return NULL;
  const double keep = num(&c, 4);
  ew_job job = { .op = EW_DROPOUT, .p = { ptr(&c, 0), ptr(&c, 1), ptr(&c, 2) }, .n = integer(&c, 3), .f = { (float)(1.0 / keep) },
                 .u = { (unsigned)llround(keep * 65536.0), (unsigned)integer(&c, 5), (unsigned)integer(&c, 6) } };
  run_ew(c.c, &job, job.n);
  return undefined(env);
}

/* axpy(h, alpha, x, y, length) */
static napi_value js_axpy(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 4, &c)) return NULL;
  ew_job job = { .op = EW_AXPY, .f = { (float)num(&c, 0) }, .p = { ptr(&c, 1), ptr(&c, 2) }, .n = integer(&c, 3) };
  run_ew(c.c, &job, job.n);
  return undefined(env);
}

/* scale(h, x, alpha, length) */
static napi_value js_scale(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 3, &c)) return NULL;
  ew_job job = { .op = EW_SCALE, .p = { ptr(&c, 0) }, .f = { (float)num(&c, 1) }, .n = integer(&c, 2) };
  run_ew(c.c, &job, job.n);
  return undefined(env);
}

/* sgdStep(h, w, g, v, length, lr, momentum, weightDecay, nesterov) */
static napi_value js_sgd_step(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 8, &c)) return NULL;
  ew_job job = { .op = EW_SGD, .p = { ptr(&c, 0), ptr(&c, 1), ptr(&c, 2) }, .n = integer(&c, 3),
                 .f = { (float)num(&c, 4), (float)num(&c, 5), (float)num(&c, 6) }, .flag = integer(&c, 7) != 0 };
  run_ew(c.c, &job, job.n);
  return undefined(env);
}

/* adamStep(h, w, g, m, v, length, beta1, beta2, 1−beta1, 1−beta2, epsilon, weightDecay, lr/c1, 1/c2) */
static napi_value js_adam_step(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 13, &c)) return NULL;
  ew_job job = { .op = EW_ADAM, .p = { ptr(&c, 0), ptr(&c, 1), ptr(&c, 2), ptr(&c, 3) }, .n = integer(&c, 4) };
  for (int i = 0; i < 8; i++) job.f[i] = (float)num(&c, 5 + (size_t)i);
  run_ew(c.c, &job, job.n);
  return undefined(env);
}

/*
 * The wire's fp16 conversions take typed arrays, not kernel memory: tensors arrive in socket
 * buffers. A typed array of `type` with at least `length` elements, else a thrown error.
 */
static void *typed(napi_env env, napi_value v, napi_typedarray_type type, size_t *length) {
  napi_typedarray_type got;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &got, length, &data, NULL, NULL) != napi_ok || got != type) {
    throw_error(env, type == napi_float32_array ? "expected a Float32Array" : type == napi_int32_array ? "expected an Int32Array" : "expected a Uint16Array");
    return NULL;
  }
  return data;
}

/* halvesEncode(values: Float32Array, out: Uint16Array): out.length values. */
static napi_value js_halves_encode(napi_env env, napi_callback_info info) {
  size_t argc = 2, nf = 0, nh = 0;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_error(env, "halvesEncode(values, out)"), NULL;
  const float *src = typed(env, argv[0], napi_float32_array, &nf);
  uint16_t *dst = src ? typed(env, argv[1], napi_uint16_array, &nh) : NULL;
  if (!dst) return NULL;
  if (nf < nh) return throw_error(env, "halvesEncode: fewer values than halves"), NULL;
  halves_encode(src, dst, (long)nh);
  return undefined(env);
}

/*
 * loadRows(h, dst, src: Float32Array, rows, cols[, order: Int32Array]): the first rows×cols floats
 * of src (a batch in JavaScript's memory) into dst; with order, row i of dst is row order[i] of
 * src, so a shuffled batch comes straight from the data set without a copy in JavaScript first.
 * Each thread copies the row strips it then scans and packs for the first layer's product
 * (skip_zero_columns, gemm_task), so those reads find the rows in its own cache rather than in
 * the calling thread's. Two-thread training steps 0.4–0.9% faster than with TypedArray.set on
 * the calling thread (three of four paired runs); gathering a shuffled batch here rather than
 * row by row in JavaScript first: steps 2–5% faster on one and two threads (four paired runs).
 */
typedef struct {
  float *dst;
  const float *src;
  const int32_t *order;
  long rows, cols;
  long mr;
  share_counter *shares;
} rows_copy;

static void rows_copy_task(void *ctx, int tid, int threads, float *scratch) {
  (void)scratch;
  const rows_copy *j = ctx;
  const long strips = (j->rows + j->mr - 1) / j->mr, units = units_for(threads);
  const size_t row_bytes = (size_t)j->cols * sizeof(float);
  int visited = 0;
  for (long u; (u = take_unit(j->shares, units, tid, threads, &visited)) >= 0;) {
    const long r0 = MIN(part(strips, u, units) * j->mr, j->rows), r1 = MIN(part(strips, u + 1, units) * j->mr, j->rows);
    if (!j->order) {
      if (r0 < r1) memcpy(j->dst + r0 * j->cols, j->src + r0 * j->cols, (size_t)(r1 - r0) * row_bytes);
      continue;
    }
    for (long r = r0; r < r1; r++) memcpy(j->dst + r * j->cols, j->src + (long)j->order[r] * j->cols, row_bytes);
  }
}

static napi_value js_load_rows(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, 4, &c)) return NULL;
  size_t length = 0;
  const float *src = typed(env, c.argv[2], napi_float32_array, &length);
  if (!src) return NULL;
  rows_copy job = { .dst = ptr(&c, 0), .src = src, .rows = integer(&c, 2), .cols = integer(&c, 3), .mr = c.c->isa->mr, .shares = fresh_shares(c.c, 0) };
  if (job.rows <= 0 || job.cols <= 0) return undefined(env);
  napi_valuetype order_type = napi_undefined;
  if (c.argc > 5) napi_typeof(env, c.argv[5], &order_type);
  if (order_type == napi_undefined) {
    if ((size_t)(job.rows * job.cols) > length) return throw_error(env, "loadRows: src holds fewer than rows × cols floats"), NULL;
  } else {
    size_t order_length = 0;
    job.order = typed(env, c.argv[5], napi_int32_array, &order_length);
    if (!job.order) return NULL;
    if (order_length < (size_t)job.rows) return throw_error(env, "loadRows: order holds fewer than rows entries"), NULL;
    const long source_rows = (long)(length / (size_t)job.cols);
    for (long r = 0; r < job.rows; r++) {
      if (job.order[r] < 0 || job.order[r] >= source_rows) return throw_error(env, "loadRows: an entry of order is not a row of src"), NULL;
    }
  }
  if (pool_threads(c.c->pool) == 1 || job.rows * job.cols < PARALLEL_ELEMENTS) rows_copy_task(&job, 0, 1, NULL);
  else pool_run(c.c->pool, rows_copy_task, &job);
  return undefined(env);
}

/* halvesDecode(halves: Uint16Array, out: Float32Array, accumulate: boolean): out.length values. */
static napi_value js_halves_decode(napi_env env, napi_callback_info info) {
  size_t argc = 3, nh = 0, nf = 0;
  napi_value argv[3];
  bool accumulate = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return throw_error(env, "halvesDecode(halves, out, accumulate)"), NULL;
  const uint16_t *src = typed(env, argv[0], napi_uint16_array, &nh);
  float *dst = src ? typed(env, argv[1], napi_float32_array, &nf) : NULL;
  if (!dst) return NULL;
  if (nh < nf) return throw_error(env, "halvesDecode: fewer halves than values"), NULL;
  napi_get_value_bool(env, argv[2], &accumulate);
  halves_decode(src, dst, (long)nf, accumulate);
  return undefined(env);
}

/* cpu() → { avx2, avx512, f16c }: what this CPU and OS can run. */
static napi_value js_cpu(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, avx2, avx512, f16c;
  napi_create_object(env, &out);
  napi_get_boolean(env, has_f16c(), &f16c);
  napi_set_named_property(env, out, "f16c", f16c);
  napi_get_boolean(env, has_avx2(), &avx2);
  napi_get_boolean(env, has_avx512(), &avx512);
  napi_set_named_property(env, out, "avx2", avx2);
  napi_set_named_property(env, out, "avx512", avx512);
  return out;
}

/*
 * The kernels compute with denormals flushed to zero (MXCSR flush-to-zero and denormals-are-zero).
 * As a model converges its gradients underflow, and arithmetic on denormals takes microcode
 * assists of a hundred cycles or more: in a two-class job whose accuracy reached 100 %, steps went
 * from 3.2 ms to 5.5 ms from epoch 7 on, and stayed at 3.0 ms with the flags set. Values below
 * 2⁻¹²⁶ (1.2e-38) count as 0 in these kernels; the WebAssembly ones keep IEEE denormals.
 * The pool's threads set the flags (FLUSH_DENORMALS, pool.h) once; the calling thread is Node's,
 * whose JavaScript must keep IEEE arithmetic, so each kernel call sets them on entry and restores
 * them on return.
 */
static napi_value with_flushed_denormals(napi_env env, napi_callback_info info) {
  void *kernel = NULL;
  napi_get_cb_info(env, info, NULL, NULL, NULL, &kernel);
  const unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | FLUSH_DENORMALS);
  napi_value result = ((napi_callback)kernel)(env, info);
  _mm_setcsr(saved);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  /* flush: computes through with_flushed_denormals (not the fp16 conversions, exact by contract). */
  const struct { const char *name; napi_callback fn; int flush; } functions[] = {
    { "create", js_create, 0 }, { "cpu", js_cpu, 0 }, { "gemm", js_gemm, 1 }, { "loadRows", js_load_rows, 0 }, { "addRowVector", js_add_row_vector, 1 }, { "sumRows", js_sum_rows, 1 },
    { "activate", js_activate, 1 }, { "activateBackward", js_activate_backward, 1 }, { "softmaxCrossEntropy", js_softmax_cross_entropy, 1 },
    { "multiply", js_multiply, 1 }, { "dropout", js_dropout, 1 }, { "axpy", js_axpy, 1 }, { "scale", js_scale, 1 }, { "sgdStep", js_sgd_step, 1 },
    { "adamStep", js_adam_step, 1 }, { "halvesEncode", js_halves_encode, 0 }, { "halvesDecode", js_halves_decode, 0 },
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    if (functions[i].flush) napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, with_flushed_denormals, (void *)functions[i].fn, &fn);
    else napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, functions[i].name, fn);
  }
  napi_value abi;
  napi_create_uint32(env, HORN_NATIVE_ABI, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
