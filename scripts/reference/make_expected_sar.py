#!/usr/bin/env python3
"""Writes FOLDER/expected-sar.json for a fixture folder: SAR(τ_t, τ_M) of every task for every matrix-path
tensor and method, with τ_M from the float64 reference (refmerge.py).

    python3 make_expected_sar.py FOLDER
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refmerge  # noqa: E402
import safetensors_io  # noqa: E402

folder = sys.argv[1]
cases = json.load(open(os.path.join(folder, "cases.json")))
base = safetensors_io.read(os.path.join(folder, cases["inputs"][0]))[0]
finetuned = [safetensors_io.read(os.path.join(folder, path))[0] for path in cases["inputs"][1:]]
report = {"tasks": [os.path.basename(path) for path in cases["inputs"][1:]], "methods": {}}
for method in ["task_arithmetic", "tsv_m", "iso_c", "iso_cts"]:
    tau_m = refmerge.merged_task_vector(method, base, finetuned)
    tensors = {}
    for name, array in base.items():
        if not (np.issubdtype(array.dtype, np.floating) and refmerge.takes_matrix_path(name, array)):
            continue
        taus = [ft[name].astype(np.float64) - array.astype(np.float64) for ft in finetuned]
        ratios = [refmerge.subspace_alignment(tau, tau_m[name]) for tau in taus]
        tensors[name] = {"k_m": int(ratios[0][1]), "sar": [float(ratio) for ratio, _ in ratios]}
    report["methods"][method] = {"tensors": tensors}
json.dump(report, open(os.path.join(folder, "expected-sar.json"), "w"), indent=1)
