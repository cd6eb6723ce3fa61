#!/usr/bin/env python3
"""16-bit outputs against the float64 reference correctly rounded, element by element, through `isomerge`.

    python3 scripts/half_precision_check.py [--isomerge .build/release/isomerge] [--seeds 1,2,3]
        [--dtypes BF16,F16] [--methods iso_c,tsv_m,iso_cts] [--tasks 8] [--layout mini] [--precision auto]

Each case synthesizes checkpoints stored in F16 or BF16 (scripts/reference/synthesize.py), merges them with
`isomerge merge` (outputs keep the inputs' dtype) and with scripts/reference/refmerge.py in float64, rounds
the reference once to the 16-bit dtype, and counts output elements more than one ulp (of the rounded
reference) away from it. `--precision float32` shows what Float arithmetic gives instead of the default
(`auto`, Double for 16-bit outputs). Exit status 1 if any element is beyond one ulp. Needs numpy.
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

ALPHA = {"iso_c": 1.3, "iso_cts": 1.5, "tsv_m": 1.0, "average": 1.0, "task_arithmetic": 0.3, "ties": 1.0}


def round_once(x, dtype):
    """x (float64) rounded to F16 or BF16 once, returned as float64."""
    if dtype == "F16":
        return x.astype(np.float16).astype(np.float64)
    # BF16: the nearest of the three BF16 values around float32(x), ties to an even pattern.
    bits = safetensors_io.float32_to_bf16_bits(x.astype(np.float32)).astype(np.int64)
    candidates = [np.clip(bits + d, 0, 0xFFFF) for d in (-1, 0, 1)]
    values = [safetensors_io.bf16_bits_to_float32(c.astype(np.uint16)).astype(np.float64) for c in candidates]
    distance = np.stack([np.abs(v - x) for v in values])
    best = np.min(distance, axis=0)
    choice = np.full(x.shape, 1)
    for i in (0, 2):
        tie = (distance[i] == best) & ((candidates[i] & 1) == 0) & ~((distance[1] == best) & ((candidates[1] & 1) == 0))
        choice = np.where((distance[i] < distance[1]) | tie, i, choice)
    return np.choose(choice, values)


def ulp(value, dtype):
    fraction_bits, smallest_exponent = (10, -14) if dtype == "F16" else (7, -126)
    exponent = np.maximum(np.floor(np.log2(np.maximum(np.abs(value), 2.0 ** smallest_exponent))), smallest_exponent)
    return np.exp2(exponent - fraction_bits)


def beyond_one_ulp(base_path, reference_path, output_path, dtype):
    base = safetensors_io.read(base_path)[0]
    reference, output = safetensors_io.read(reference_path)[0], safetensors_io.read(output_path)[0]
    total, beyond, worst = 0, 0, 0.0
    for name, values in base.items():
        if not np.issubdtype(values.dtype, np.floating):
            continue
        rounded = round_once(reference[name].astype(np.float64), dtype)
        ulps = np.abs(output[name].astype(np.float64) - rounded) / ulp(rounded, dtype)
        total += ulps.size
        beyond += int((ulps > 1).sum())
        worst = max(worst, float(ulps.max()))
    return total, beyond, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isomerge", default=os.path.join(here, "..", ".build", "release", "isomerge"))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--dtypes", default="BF16,F16")
    parser.add_argument("--methods", default="iso_c,tsv_m,iso_cts")
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--layout", default="mini")
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as scratch:
        for dtype in args.dtypes.split(","):
            for seed in args.seeds.split(","):
                folder = os.path.join(scratch, f"{dtype}-{seed}")
                subprocess.run([sys.executable, os.path.join(here, "reference", "synthesize.py"), folder, "--layout", args.layout,
                                "--tasks", str(args.tasks), "--seed", seed, "--dtype", dtype], check=True, capture_output=True)
                base = os.path.join(folder, "base.safetensors")
                models = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("ft_"))
                for method in args.methods.split(","):
                    reference, output = os.path.join(folder, f"ref-{method}.safetensors"), os.path.join(folder, f"out-{method}.safetensors")
                    made = subprocess.run([sys.executable, os.path.join(here, "reference", "refmerge.py"), method, base, *models,
                                           "-o", reference, "--alpha", str(ALPHA[method])], capture_output=True, text=True)
                    if made.returncode != 0:
                        print(f"{dtype} seed {seed} {method}: no reference ({made.stderr.strip().splitlines()[-1]})")
                        continue
                    subprocess.run([args.isomerge, "merge", "--method", method, "--base", base, "--models", *models,
                                    "--alpha", str(ALPHA[method]), "--precision", args.precision, "--output", output, "--quiet"], check=True)
                    total, beyond, worst = beyond_one_ulp(base, reference, output, dtype)
                    failed |= beyond > 0
                    print(f"{dtype} seed {seed} {method:8s} {beyond} of {total} elements beyond one ulp, worst {worst:.2f} ulps", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
