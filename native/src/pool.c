/*
 * The thread pool behind the kernels. One task at a time: the caller publishes it (`state`: the
 * task's number and whether it is open), runs it as thread 0, closes it, and waits only for
 * the threads that joined it. A thread joins a task only while it is open, so one that starts
 * late (descheduled by the host, or by another process on its core) skips it rather than holding
 * up the caller: every task is written so that the threads taking part, the caller among them,
 * do all of it between them (addon.c, take_unit). Kernel calls come in bursts (a training step
 * is ~25 of them, 10 µs – 1 ms each), so idle threads first spin for a short while (a futex
 * wake-up costs more than most gaps between calls) and then sleep on a futex, so an idle pool
 * costs no CPU.
 */
#define _GNU_SOURCE
#include "pool.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

/* TSC ticks to spin before sleeping: ~1 ms at 2–3 GHz. The gaps inside a training step (data
 * copies, dropout masks) last up to a few hundred µs, and on a VM a futex wake-up took longer. */
#define SPIN_TICKS 2500000ULL

/*
 * A spinning thread gives up its core every YIELD_SPINS pauses (sched_yield: at once if no other
 * thread wants the core). With more runnable threads than cores (a busy node, another process on
 * a core) the thread a spinner waits for is often the one it keeps off the core: the caller
 * descheduled while a worker spins for the next call, or a worker holding a unit while the caller
 * spins for it. Interleaved training windows, 2 threads on 2 vCPUs with one CPU-bound process
 * beside them: 5.2–5.6 ms a step against 8.0–8.7 without yielding (one thread: 5.3); the same
 * speed on an idle machine (paired medians 1.03× and 1.00×).
 */
#define YIELD_SPINS 64u

struct pool {
  int threads;
  pthread_t *ids;
  float *scratch;
  size_t scratch_stride;
  /* Twice the task's number, plus one while it is open to joiners. */
  _Atomic unsigned state;
  /* Threads inside the current task (joined, not yet returned). */
  _Atomic unsigned active;
  /* Workers asleep on `state`, and the caller asleep on `active`: wake-ups only for them. */
  _Atomic int sleepers;
  _Atomic int caller_sleeping;
  _Atomic int stop;
  pool_task task;
  void *ctx;
};

typedef struct {
  pool *p;
  int tid;
} worker_arg;

static void futex_wait(_Atomic unsigned *addr, unsigned expected) {
  syscall(SYS_futex, (unsigned *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic unsigned *addr) {
  syscall(SYS_futex, (unsigned *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Waits until *addr != value: spinning first, then on the futex. Returns the new value. */
static unsigned wait_change(_Atomic unsigned *addr, unsigned value, _Atomic int *sleepers) {
  const unsigned long long until = __rdtsc() + SPIN_TICKS;
  unsigned now;
  for (unsigned spins = 1; (now = atomic_load_explicit(addr, memory_order_acquire)) == value; spins++) {
    if (__rdtsc() > until) break;
    pool_pause(spins);
  }
  if (now != value) return now;
  if (sleepers) atomic_fetch_add(sleepers, 1);
  while ((now = atomic_load(addr)) == value) futex_wait(addr, value);
  if (sleepers) atomic_fetch_sub(sleepers, 1);
  return now;
}

void pool_pause(unsigned spins) {
  _mm_pause();
  if (spins % YIELD_SPINS == 0) sched_yield();
}

float *pool_scratch(pool *p, int tid) {
  return p->scratch + (size_t)tid * p->scratch_stride;
}

static void *worker_main(void *arg) {
  pool *p = ((worker_arg *)arg)->p;
  const int tid = ((worker_arg *)arg)->tid;
  free(arg);
  /* Denormals flushed to zero, as on the calling thread during a call. */
  _mm_setcsr(_mm_getcsr() | FLUSH_DENORMALS);
  unsigned seen = 0;
  for (;;) {
    seen = wait_change(&p->state, seen, &p->sleepers);
    if (atomic_load(&p->stop)) return NULL;
    if (!(seen & 1u)) continue; /* closed before this thread got here */
    /* Joined, then the task checked still open: the caller closes it and then reads `active`
     * (both sequentially consistent), so either it waits for this thread or this thread sees
     * the task closed and leaves it alone. */
    atomic_fetch_add(&p->active, 1);
    if (atomic_load(&p->state) == seen) p->task(p->ctx, tid, p->threads, pool_scratch(p, tid));
    if (atomic_fetch_sub(&p->active, 1) == 1 && atomic_load(&p->caller_sleeping)) futex_wake(&p->active);
  }
}

pool *pool_create(int threads, size_t scratch_floats) {
  if (threads < 1) return NULL;
  pool *p = calloc(1, sizeof(pool));
  if (!p) return NULL;
  p->threads = threads;
  p->scratch_stride = (scratch_floats + 15) & ~(size_t)15;
  if (posix_memalign((void **)&p->scratch, 64, p->scratch_stride * sizeof(float) * (size_t)threads) != 0) {
    free(p);
    return NULL;
  }
  p->ids = calloc((size_t)threads, sizeof(pthread_t));
  if (!p->ids) {
    free(p->scratch);
    free(p);
    return NULL;
  }
  for (int t = 1; t < threads; t++) {
    worker_arg *arg = malloc(sizeof(worker_arg));
    if (arg) *arg = (worker_arg){ .p = p, .tid = t };
    if (!arg || pthread_create(&p->ids[t], NULL, worker_main, arg) != 0) {
      free(arg);
      p->threads = t; /* the threads started so far, for pool_destroy */
      pool_destroy(p);
      return NULL;
    }
  }
  return p;
}

int pool_threads(const pool *p) {
  return p->threads;
}

void pool_run(pool *p, pool_task task, void *ctx) {
  if (p->threads == 1) {
    task(ctx, 0, 1, pool_scratch(p, 0));
    return;
  }
  p->task = task;
  p->ctx = ctx;
  const unsigned open = (atomic_load(&p->state) | 1u) + 2u;
  atomic_store(&p->state, open);
  if (atomic_load(&p->sleepers) > 0) futex_wake(&p->state);
  task(ctx, 0, p->threads, pool_scratch(p, 0));
  atomic_store(&p->state, open - 1u);
  unsigned inside;
  while ((inside = atomic_load(&p->active)) != 0) wait_change(&p->active, inside, &p->caller_sleeping);
}

void pool_destroy(pool *p) {
  if (!p) return;
  atomic_store(&p->stop, 1);
  atomic_fetch_add(&p->state, 2u);
  futex_wake(&p->state);
  for (int t = 1; t < p->threads; t++) pthread_join(p->ids[t], NULL);
  free(p->ids);
  free(p->scratch);
  free(p);
}
