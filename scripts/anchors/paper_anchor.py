#!/usr/bin/env python3
"""Times the paper's own merge code end to end, the anchor of `merge-bench`'s ViT and Llama-layer rows.

The merge functions come from a checkout of the paper's repository (danielm1405/iso-merging), imported by file
path at run time and never copied here: `iso_c` and `iso_cts` from src/utils/iso.py, TSV-M from
src/utils/TSVM_utils.py (`compute_and_sum_svd_mem_reduction`). One run does what `isomerge merge` does on the
same files: read base.safetensors and ft_00 … ft_{T-1}.safetensors, form the task vectors in float32 (torch has
no BF16 SVD on the CPU), merge, write base + α·τ_M in the base's dtype. It prints one JSON line: seconds (the
whole run after the imports), peak RSS, torch's thread count.

    python3 scripts/anchors/paper_anchor.py PAPER_CHECKOUT CHECKPOINT_DIR T iso_c|iso_cts|tsv_m [--output FILE]

PAPER_CHECKOUT is a directory holding the repository's src/. Needs torch (pip install 'torch==2.13.0+cpu') and
safetensors. α is the paper's default per method (the value does not change the time).
"""
import argparse
import contextlib
import importlib.util
import io
import json
import os
import resource
import time
import types

ALPHA = {"iso_c": 1.3, "iso_cts": 1.5, "tsv_m": 1.0}


def module_at(checkout, relative_path):
    """Imports one file of the checkout (its package __init__ would pull in wandb and hydra)."""
    spec = importlib.util.spec_from_file_location(relative_path.replace("/", "_"), os.path.join(checkout, relative_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout")
    parser.add_argument("checkpoints")
    parser.add_argument("tasks", type=int)
    parser.add_argument("method", choices=sorted(ALPHA))
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    import torch
    from safetensors.torch import load_file, save_file

    iso = module_at(args.checkout, "src/utils/iso.py")
    merge = {"iso_c": iso.iso_c, "iso_cts": iso.iso_cts,
             "tsv_m": module_at(args.checkout, "src/utils/TSVM_utils.py").compute_and_sum_svd_mem_reduction}[args.method]
    output = args.output or f"/tmp/paper_anchor_{args.method}.safetensors"

    start = time.time()
    base = load_file(os.path.join(args.checkpoints, "base.safetensors"))
    task_vectors = []
    for t in range(args.tasks):
        finetuned = load_file(os.path.join(args.checkpoints, f"ft_{t:02d}.safetensors"))
        vector = {name: (finetuned[name] - weight).float() for name, weight in base.items() if weight.is_floating_point()}
        task_vectors.append(types.SimpleNamespace(vector=vector))
        del finetuned
    config = types.SimpleNamespace(device="cpu", DATASETS=[f"task{t}" for t in range(args.tasks)],
                                   method=types.SimpleNamespace(common_space_fraction=0.8))
    with contextlib.redirect_stdout(io.StringIO()):
        merged_vector = merge(task_vectors, config)
    alpha = ALPHA[args.method]
    merged = {name: (weight.float() + alpha * merged_vector[name]).to(weight.dtype).contiguous()
              if name in merged_vector else weight for name, weight in base.items()}
    save_file(merged, output)
    seconds = time.time() - start
    print(json.dumps({"method": args.method, "seconds": round(seconds, 2),
                      "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
