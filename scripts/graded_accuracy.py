#!/usr/bin/env python3
"""Relative accuracy of every singular value on graded matrices A = D1·B·D2, through the `isomerge` executable.

    python3 scripts/graded_accuracy.py [--isomerge .build/release/isomerge] [--seed S] [--json]

B is a Gaussian matrix (well conditioned: κ(B) is printed), D1 and D2 diagonal with entries 10^(−d·t), t uniform
in [0, 1] (d decades; the extremes included), on the rows, the columns or both sides, sorted (decreasing) or in
random order. A is rounded to float32. The reference is LAPACK's dgejsv on that float32 matrix in float64
(relatively accurate for graded matrices; its own error is ~10⁻¹⁶·κ(B), far below float32's). For each case it
prints max_i |σ̂_i − σ_i|/σ_i for IsoMerge's Jacobi and bidiagonal paths and for LAPACK's sgejsv (joba='F',
values = sva·work[0]/work[1]) and sgesdd on the same float32 matrix, and whether Jacobi is within 4× of sgejsv's
error (or ≤ 10⁻⁵). Exit status 1 if any case is not. Needs numpy and scipy.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.linalg import lapack

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "reference"))
import safetensors_io  # noqa: E402

JOBA_F = 2  # scipy's joba index into "CEFGAR": 'F', full accuracy with row pivoting


def grading(count, decades, order, rng):
    exponents = np.linspace(0, decades, count) if order == "sorted" else rng.permutation(np.linspace(0, decades, count))
    return 10.0 ** -exponents


def cases(rng):
    for (m, n) in [(120, 120), (300, 100), (100, 300)]:
        for side in ["rows", "columns", "both"]:
            for order in ["sorted", "random"]:
                for decades in [4, 8]:
                    b = rng.standard_normal((m, n))
                    d1 = grading(m, decades, order, rng) if side in ("rows", "both") else np.ones(m)
                    d2 = grading(n, decades, order, rng) if side in ("columns", "both") else np.ones(n)
                    a = (d1[:, None] * b * d2[None, :]).astype(np.float32)
                    yield f"{m}x{n} {side} {order} {decades}", a, np.linalg.cond(b)


def tall(a):
    return a if a.shape[0] >= a.shape[1] else a.T


def reference_values(a):
    sva, _, _, work, _, info = lapack.dgejsv(tall(a).astype(np.float64), joba=JOBA_F, jobu=3, jobv=3)
    assert info == 0
    return np.sort(sva * work[0] / work[1])[::-1]


def sgejsv_values(a):
    sva, _, _, work, _, info = lapack.sgejsv(tall(a), joba=JOBA_F, jobu=3, jobv=3)
    assert info == 0
    return np.sort(sva.astype(np.float64) * work[0] / work[1])[::-1]


def sgesdd_values(a):
    s = lapack.sgesdd(a, compute_uv=0)[1]
    return np.sort(s.astype(np.float64))[::-1]


def isomerge_values(isomerge, matrices, algorithm, directory):
    source = os.path.join(directory, "graded.safetensors")
    output = os.path.join(directory, f"svd-{algorithm}.safetensors")
    names = [f"m{k}" for k in range(len(matrices))]
    safetensors_io.write(source, dict(zip(names, matrices)), {name: "F32" for name in names})
    subprocess.run([isomerge, "svd", source, "--algorithm", algorithm, "--output", output, "--overwrite"],
                   check=True, stdout=subprocess.DEVNULL)
    tensors = safetensors_io.read(output)[0]
    return [tensors[name + ".S"].astype(np.float64) for name in names]


def relative_error(values, reference):
    return float(np.max(np.abs(values - reference) / reference))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--isomerge", default=".build/release/isomerge")
    ap.add_argument("--seed", type=int, default=22)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    labels, matrices, conditions = zip(*cases(rng))
    with tempfile.TemporaryDirectory() as directory:
        jacobi = isomerge_values(a.isomerge, matrices, "jacobi", directory)
        bidiagonal = isomerge_values(a.isomerge, matrices, "bidiagonal", directory)
    failures = 0
    if not a.json:
        print(f"{'case':28s} {'κ(B)':>7s} {'jacobi':>9s} {'bidiag':>9s} {'sgejsv':>9s} {'sgesdd':>9s}  within")
    for k, (label, matrix) in enumerate(zip(labels, matrices)):
        reference = reference_values(matrix)
        errors = {"jacobi": relative_error(jacobi[k], reference), "bidiagonal": relative_error(bidiagonal[k], reference),
                  "sgejsv": relative_error(sgejsv_values(matrix), reference),
                  "sgesdd": relative_error(sgesdd_values(matrix), reference)}
        within = errors["jacobi"] <= max(4 * errors["sgejsv"], 1e-5)
        failures += not within
        if a.json:
            print(json.dumps({"case": label, "condition": conditions[k], **errors, "within": within}))
        else:
            print(f"{label:28s} {conditions[k]:7.0f} {errors['jacobi']:9.2e} {errors['bidiagonal']:9.2e} "
                  f"{errors['sgejsv']:9.2e} {errors['sgesdd']:9.2e}  {'yes' if within else 'NO'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
