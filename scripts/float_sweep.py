#!/usr/bin/env python3
"""The float32 engine against the float64 engine, end to end through the `isomerge` executable.

    python3 scripts/float_sweep.py [--isomerge .build/release/isomerge] [--cases N] [--seed S]

Each case synthesizes checkpoints (scripts/reference/synthesize.py: a layout, T tasks, exactly low-rank
task vectors of a random rank or full ones, F64 or F32 storage), merges them with one SVD-based method and
common fraction in both precisions, and prints the largest relative Frobenius difference of the merged
deltas over the tensors; it exits 1 if any exceeds 1e-4. A longer companion to the test suite's
FloatRobustnessSweepTests, which sweeps the same axes on single matrices in seconds.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "reference"))
import safetensors_io  # noqa: E402


def largest_difference(base_path, a_path, b_path):
    base, _, _ = safetensors_io.read(base_path)
    a, b = safetensors_io.read(a_path)[0], safetensors_io.read(b_path)[0]
    worst = (0.0, "")
    for name, array in base.items():
        if not np.issubdtype(array.dtype, np.floating):
            continue
        da, db = a[name].astype(np.float64) - array, b[name].astype(np.float64) - array
        norm = np.linalg.norm(db)
        error = np.linalg.norm(da - db) / norm if norm > 0 else np.linalg.norm(da)
        worst = max(worst, (error, name))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isomerge", default=".build/release/isomerge")
    parser.add_argument("--cases", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for case in range(args.cases):
            layout = str(rng.choice(["small", "mini"]))
            tasks = int(rng.integers(1, 13))
            lowrank = int(rng.choice([0, 1, 2, 3, 5, 8, 16]))
            dtype = str(rng.choice(["F64", "F32"]))
            method = str(rng.choice(["iso_c", "iso_cts", "tsv_m"]))
            fraction = float(rng.choice([0.8, 0.5, 0.2]))
            folder = os.path.join(scratch, f"case{case}")
            subprocess.run([sys.executable, os.path.join(here, "reference", "synthesize.py"), folder, "--layout", layout,
                            "--tasks", str(tasks), "--lowrank", str(lowrank), "--dtype", dtype, "--seed", str(case)],
                           check=True)
            models = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("ft_"))
            outputs = []
            for precision in ["float32", "float64"]:
                output = os.path.join(folder, f"{precision}.safetensors")
                fraction_flag = ["--common-fraction", str(fraction)] if method == "iso_cts" else []
                subprocess.run([args.isomerge, "merge", "--method", method, "--alpha", "1", *fraction_flag,
                                "--precision", precision, "--output-dtype", "F64", "--quiet", "--base",
                                os.path.join(folder, "base.safetensors"), "--models", *models, "--output", output], check=True)
                outputs.append(output)
            error, name = largest_difference(os.path.join(folder, "base.safetensors"), *outputs)
            failures += error > 1e-4
            print(f"{'FAIL' if error > 1e-4 else 'ok  '} {method:8} {layout:5} T={tasks:2} rank={lowrank or 'full':4} "
                  f"{dtype} f={fraction}: {error:.2e} ({name})")
    print(f"{args.cases - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
