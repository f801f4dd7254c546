/* A fixed set of threads that run one task at a time (the caller is thread 0). */
#ifndef HORN_POOL_H
#define HORN_POOL_H

#include <stddef.h>

typedef struct pool pool;
/* ctx, this thread's index, the thread count, this thread's scratch. */
typedef void (*pool_task)(void *ctx, int tid, int threads, float *scratch);

/* NULL if a thread or memory could not be had. Each thread gets scratch_floats of scratch (64-byte aligned). */
pool *pool_create(int threads, size_t scratch_floats);
int pool_threads(const pool *p);
/* Thread tid's scratch, for running a task on the calling thread alone. */
float *pool_scratch(pool *p, int tid);
/* Runs task(ctx, t, threads, scratch_t) on the caller (t = 0) and on each thread t that starts
 * before the caller's run returns; returns when all of those have returned. So a task must do
 * all of its work between whichever of its threads run, the caller alone included (addon.c,
 * take_unit). */
void pool_run(pool *p, pool_task task, void *ctx);
/* One turn of a spin-wait: a pause, and every few turns the core given up to a thread that wants
 * it (`spins` counts the turns from 1). Every spin of the pool and its tasks goes through it. */
void pool_pause(unsigned spins);
void pool_destroy(pool *p);

/* MXCSR flush-to-zero (bit 15) and denormals-are-zero (bit 6): the kernels' arithmetic on every
 * thread (why: addon.c, with_flushed_denormals). */
#define FLUSH_DENORMALS 0x8040u

#endif
