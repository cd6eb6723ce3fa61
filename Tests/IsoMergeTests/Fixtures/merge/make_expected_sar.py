#!/usr/bin/env python3
"""Writes expected-sar.json for a fixture folder: SAR(tau_t, tau_M) per task for every matrix-path tensor and
method, with tau_M from the float64 reference (../../../../../shared/reference/refmerge.py, or REFERENCE=path)."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.environ.get("REFERENCE", os.path.join(os.path.dirname(__file__), "../../../../../shared/reference")))
import refmerge  # noqa: E402
import st  # noqa: E402

folder = sys.argv[1]
cases = json.load(open(os.path.join(folder, "cases.json")))
base = st.load(os.path.join(folder, cases["inputs"][0]))
fts = [st.load(os.path.join(folder, p)) for p in cases["inputs"][1:]]
out = {"tasks": [os.path.basename(p) for p in cases["inputs"][1:]], "methods": {}}
for method in ["task_arithmetic", "tsv_m", "iso_c", "iso_cts"]:
    tensors = {}
    for name, arr in base.items():
        if not (np.issubdtype(arr.dtype, np.floating) and refmerge.is_matrix(name, arr)):
            continue
        tvs = [ft[name].astype(np.float64) - arr.astype(np.float64) for ft in fts]
        fn = refmerge.PER_TENSOR[method]
        merged = fn(name, tvs, 0.8) if method == "iso_cts" else fn(name, tvs)
        sars = [refmerge.sar(tv, merged) for tv in tvs]
        tensors[name] = {"k_m": int(sars[0][1]), "sar": [float(s[0]) for s in sars]}
    out["methods"][method] = {"tensors": tensors}
json.dump(out, open(os.path.join(folder, "expected-sar.json"), "w"), indent=1)
