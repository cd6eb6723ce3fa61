#!/usr/bin/env python3
"""End-to-end merge times of IsoMerge against the paper's own code, in alternating rounds on the same files.

    python3 scripts/anchors/compare_with_paper.py PAPER_CHECKOUT CHECKPOINT_DIR [--methods iso_c,tsv_m,iso_cts]
                                                  [--rounds 3] [--precision auto|float32|float64] [--json]

Each round runs, per method, `.build/release/merge-bench` (one child process: read, merge, write) and then
scripts/anchors/paper_anchor.py (the paper's merge functions through torch) on CHECKPOINT_DIR/base.safetensors
and ft_00 … ft_{T-1}.safetensors. Alternation keeps the ratio of each pair meaningful when the machine's speed
drifts. Prints per method the medians, the per-round ratios (paper / IsoMerge: how many times faster IsoMerge is)
and both peak RSS values. `--precision float32` gives a 16-bit model the float32 arithmetic the paper's code uses
(IsoMerge's default merges 16-bit outputs in Double). Build first: swift build -c release -Xswiftc -target-cpu
-Xswiftc native.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def ours(checkpoints, models, method, precision):
    command = [os.path.join(ROOT, ".build/release/merge-bench"), "--json", "--methods", method,
               "--base", os.path.join(checkpoints, "base.safetensors"), "--models", *models]
    if precision != "auto":
        command += ["--precision", precision]
    row = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    return row["seconds"], row["peak_rss_mb"] / 1024


def paper(checkout, checkpoints, tasks, method):
    command = [sys.executable, os.path.join(HERE, "paper_anchor.py"), checkout, checkpoints, str(tasks), method]
    row = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    return row["seconds"], row["peak_rss_gb"] * 1e9 / 2**30


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout")
    parser.add_argument("checkpoints")
    parser.add_argument("--methods", default="iso_c,tsv_m,iso_cts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "float64"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = sorted(glob.glob(os.path.join(args.checkpoints, "ft_*.safetensors")))
    methods = args.methods.split(",")
    times = {method: {"ours": [], "paper": [], "ours_gib": 0.0, "paper_gib": 0.0} for method in methods}
    for _ in range(args.rounds):
        for method in methods:
            seconds, gib = ours(args.checkpoints, models, method, args.precision)
            times[method]["ours"].append(seconds)
            times[method]["ours_gib"] = max(times[method]["ours_gib"], gib)
            seconds, gib = paper(args.checkout, args.checkpoints, len(models), method)
            times[method]["paper"].append(seconds)
            times[method]["paper_gib"] = max(times[method]["paper_gib"], gib)
    if not args.json:
        print(f"{'method':8}  {'IsoMerge s':>10}  {'paper s':>8}  {'speed-up':>8}  per round          peak GiB (ours / paper)")
    for method in methods:
        row = times[method]
        ratios = [p / o for p, o in zip(row["paper"], row["ours"])]
        summary = {"method": method, "tasks": len(models), "precision": args.precision,
                   "ours_seconds": statistics.median(row["ours"]), "paper_seconds": statistics.median(row["paper"]),
                   "speedup_median": statistics.median(ratios), "speedups": [round(r, 2) for r in ratios],
                   "ours_peak_gib": round(row["ours_gib"], 2), "paper_peak_gib": round(row["paper_gib"], 2)}
        if args.json:
            print(json.dumps(summary))
        else:
            print(f"{method:8}  {summary['ours_seconds']:10.2f}  {summary['paper_seconds']:8.2f}  "
                  f"{summary['speedup_median']:7.2f}×  {' '.join(f'{r:.2f}' for r in ratios):17}  "
                  f"{summary['ours_peak_gib']:.2f} / {summary['paper_peak_gib']:.2f}")


if __name__ == "__main__":
    main()
