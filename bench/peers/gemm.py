"""GFLOPS of numpy (its BLAS, OpenBLAS in the PyPI wheel) on the shapes of bench/kernels.ts.

The three products of training as numpy passes them to sgemm without copies: a @ b,
a.T @ b with a stored k×m, a @ b.T with b stored n×k. Best of interleaved ~2 ms batches within
a budget per shape, median beside it. Prints one JSON line:
{"library", "gflopsPerShape": {label: best}, "medianGflopsPerShape": {...}, "secondsPerShape": {label: best seconds}}.
The caller pins the process to one core and sets OPENBLAS_NUM_THREADS.
"""
import argparse
import json
import time

import numpy as np

BATCH = 128
LAYERS = [(784, 500), (500, 500), (500, 10)]


def cases():
    for fan_in, fan_out in LAYERS:
        yield "matmul", f"X·W     {BATCH}×{fan_in}·{fan_in}×{fan_out}", BATCH, fan_in, fan_out
    for fan_in, fan_out in LAYERS:
        yield "matmulTN", f"Xᵀ·dY   {fan_in}×{BATCH}·{BATCH}×{fan_out}", fan_in, BATCH, fan_out
    for fan_in, fan_out in LAYERS:
        yield "matmulNT", f"dY·Wᵀ   {BATCH}×{fan_out}·{fan_out}×{fan_in}", BATCH, fan_out, fan_in


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-seconds", type=float, default=1.0)
    parser.add_argument("--batch-seconds", type=float, default=0.002)
    args = parser.parse_args()
    rng = np.random.default_rng(12345)
    best, median, seconds = {}, {}, {}
    for product, label, m, k, n in cases():
        if product == "matmul":
            a, b = rng.random((m, k), np.float32) - 0.5, rng.random((k, n), np.float32) - 0.5
            f = lambda: np.matmul(a, b, out=c)
        elif product == "matmulTN":
            a, b = rng.random((k, m), np.float32) - 0.5, rng.random((k, n), np.float32) - 0.5
            f = lambda: np.matmul(a.T, b, out=c)
        else:
            a, b = rng.random((m, k), np.float32) - 0.5, rng.random((n, k), np.float32) - 0.5
            f = lambda: np.matmul(a, b.T, out=c)
        c = np.empty((m, n), np.float32)
        calls = 1
        while True:
            start = time.perf_counter()
            for _ in range(calls):
                f()
            elapsed = time.perf_counter() - start
            if elapsed >= args.batch_seconds / 2:
                break
            calls *= 2
        calls = max(1, round(calls * args.batch_seconds / elapsed))
        samples, spent = [], 0.0
        while spent < args.budget_seconds or len(samples) < 5:
            start = time.perf_counter()
            for _ in range(calls):
                f()
            elapsed = time.perf_counter() - start
            spent += elapsed
            samples.append(elapsed / calls)
        samples.sort()
        work = 2 * m * n * k
        best[label] = work / samples[0] / 1e9
        median[label] = work / samples[len(samples) // 2] / 1e9
        seconds[label] = samples[0]
    print(json.dumps({"library": f"numpy {np.__version__} ({blas_name()})", "gflopsPerShape": best, "medianGflopsPerShape": median, "secondsPerShape": seconds}))


def blas_name():
    try:
        info = np.show_config(mode="dicts")
        return info["Build Dependencies"]["blas"]["name"]
    except Exception:  # older numpy: no dict mode
        return "BLAS"


if __name__ == "__main__":
    main()
