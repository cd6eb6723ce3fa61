#!/usr/bin/env python3
"""Regenerates a fixture folder's expected results from its stored inputs and cases.json.

    python3 make_expected.py FOLDER [--f64]

For every case in FOLDER/cases.json, writes the merged checkpoint computed by refmerge.py in float64
to FOLDER/expected/<case> as F32 (whatever the inputs' dtype), or with --f64 to FOLDER/expected-f64/<case>
as F64. Needs numpy only.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refmerge  # noqa: E402
import safetensors_io  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--f64", action="store_true")
    args = parser.parse_args()
    cases = json.load(open(os.path.join(args.folder, "cases.json")))
    base, dtypes, _ = safetensors_io.read(os.path.join(args.folder, cases["inputs"][0]))
    finetuned = [safetensors_io.read(os.path.join(args.folder, path))[0] for path in cases["inputs"][1:]]
    float_dtype = "F64" if args.f64 else "F32"
    for case in cases["cases"]:
        merged = refmerge.merge(case["method"], base, finetuned, case.get("alpha", 1.0),
                                fraction=case.get("fraction", 0.8), density=case.get("k", 20) / 100)
        out_dtypes = {name: float_dtype if np.issubdtype(base[name].dtype, np.floating) else dtypes[name]
                      for name in base}
        path = os.path.join(args.folder, case["file"])
        if args.f64:
            path = path.replace("/expected/", "/expected-f64/")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        safetensors_io.write(path, merged, out_dtypes, {"format": "pt"})
        print(path)


if __name__ == "__main__":
    main()
