#!/usr/bin/env python3
"""Times the LAPACK/BLAS anchors (OpenBLAS through numpy/scipy) on this machine.

Needs numpy and scipy (pip install numpy scipy threadpoolctl). Prints, for each
case, the median of several runs, and a JSON line per case with --json.

Run it the way the anchor is meant to be compared: with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset in that one command (they pin OpenBLAS to an older, slower
kernel on this processor), e.g.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/anchors/lapack_anchor.py --threads 2

Cases: sgemm (GFLOP/s), sgesdd thin SVD with vectors, sgesdd values only; with --jacobi, LAPACK's
preconditioned one-sided Jacobi sgejsv with U and V (scipy's defaults; the singular values are
sva·work[0]/work[1]), the anchor of `linalg-bench svd --algorithm jacobi` (sgesdd_uv rows); with --mkl, the same SVDs through Intel MKL as PyTorch ships it
(torch.linalg.svd / svdvals: the strongest anchor on Intel processors). float32 throughout.

MKL: pip install the CPU build of torch (pip install 'torch==2.13.0+cpu' is served on these machines); the default
CUDA build is several GB.
"""
import argparse
import json
import statistics
import time

import numpy as np


def timeit(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--gemm", default="1024x1024x1024,2048x2048x2048,3072x768x768,768x768x768")
    ap.add_argument("--svd", default="768x768,2304x768,3072x768,768x3072,1024x1024,2048x2048")
    ap.add_argument("--jacobi", default="", help="shapes for sgejsv, e.g. 768x768,3072x768")
    ap.add_argument("--mkl", default="", help="shapes for MKL (torch) gesdd with vectors and values only")
    a = ap.parse_args()
    from scipy.linalg import lapack
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        limiter = threadpool_limits(limits=a.threads)
        info = [(d.get("internal_api"), d.get("architecture"), d.get("num_threads")) for d in threadpool_info()]
    except ImportError:
        info = "threadpoolctl not installed: thread count not pinned"
    rng = np.random.default_rng(0)
    rows = []
    for case in filter(None, a.gemm.split(",")):
        m, n, k = map(int, case.split("x"))
        A = rng.standard_normal((m, k)).astype(np.float32)
        B = rng.standard_normal((k, n)).astype(np.float32)
        t = timeit(lambda: A @ B, a.reps)
        rows.append({"op": "sgemm", "shape": case, "seconds": t, "gflops": 2 * m * n * k / t / 1e9})
    for case in filter(None, a.svd.split(",")):
        m, n = map(int, case.split("x"))
        A = rng.standard_normal((m, n)).astype(np.float32)
        t = timeit(lambda: lapack.sgesdd(A, compute_uv=1, full_matrices=0), a.reps)
        rows.append({"op": "sgesdd_uv", "shape": case, "seconds": t})
        t = timeit(lambda: lapack.sgesdd(A, compute_uv=0), a.reps)
        rows.append({"op": "sgesdd_s", "shape": case, "seconds": t})
    for case in filter(None, a.jacobi.split(",")):
        m, n = map(int, case.split("x"))
        A = rng.uniform(-1, 1, (m, n)).astype(np.float32)
        def jacobi():
            sva, u, v, work, _, info = lapack.sgejsv(A)
            assert info == 0
            return sva * work[0] / work[1], u, v
        t = timeit(jacobi, a.reps)
        rows.append({"op": "sgejsv", "shape": case, "seconds": t})
    if a.mkl:
        import torch
        torch.set_num_threads(a.threads)
        for case in a.mkl.split(","):
            m, n = map(int, case.split("x"))
            A = torch.rand(m, n) * 2 - 1
            reps = a.reps if m * n <= 4_000_000 else 2
            t = timeit(lambda: torch.linalg.svd(A, full_matrices=False), reps)
            rows.append({"op": "mkl_gesdd_uv", "shape": case, "seconds": t})
            t = timeit(lambda: torch.linalg.svdvals(A), reps)
            rows.append({"op": "mkl_gesdd_s", "shape": case, "seconds": t})
    for r in rows:
        if a.json:
            print(json.dumps(r))
        else:
            extra = f"  {r['gflops']:.1f} GFLOP/s" if "gflops" in r else ""
            print(f"{r['op']:10s} {r['shape']:>16s}  {r['seconds']*1e3:9.1f} ms{extra}")
    if not a.json:
        print("blas:", info)


if __name__ == "__main__":
    main()
