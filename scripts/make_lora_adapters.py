#!/usr/bin/env python3
"""Writes T PEFT LoRA adapters of a Llama-7B-shaped model (numpy only), for merge-bench --adapters.

    python3 scripts/make_lora_adapters.py OUT [--tasks 8] [--rank 16] [--layers 32] [--hidden 4096]
                                              [--intermediate 11008] [--seed 0]

OUT/adapter_00 ... : adapter_config.json + adapter_model.safetensors (F32), r on q, k, v, o, gate,
up, down of every layer: lora_A (r x in) Gaussian / sqrt(in), lora_B (out x r) Gaussian / sqrt(r),
lora_alpha = 2r. Each adapter is about 160 MB at the defaults.
"""
import argparse
import json
import os
import struct

import numpy as np


def write_safetensors(path, tensors):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, array in tensors:
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, array in tensors:
            f.write(np.ascontiguousarray(array, dtype="<f4").tobytes())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--intermediate", type=int, default=11008)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    h, i, r = args.hidden, args.intermediate, args.rank
    shapes = {"self_attn.q_proj": (h, h), "self_attn.k_proj": (h, h), "self_attn.v_proj": (h, h), "self_attn.o_proj": (h, h),
              "mlp.gate_proj": (i, h), "mlp.up_proj": (i, h), "mlp.down_proj": (h, i)}  # (out, in)
    rng = np.random.default_rng(args.seed)
    for t in range(args.tasks):
        directory = os.path.join(args.out, f"adapter_{t:02d}")
        os.makedirs(directory, exist_ok=True)
        tensors = []
        for layer in range(args.layers):
            for suffix, (out, inp) in shapes.items():
                key = f"base_model.model.model.layers.{layer}.{suffix}"
                tensors.append((key + ".lora_A.weight", (rng.standard_normal((r, inp), dtype=np.float32) / np.sqrt(inp)).astype(np.float32)))
                tensors.append((key + ".lora_B.weight", (rng.standard_normal((out, r), dtype=np.float32) / np.sqrt(r)).astype(np.float32)))
        tensors.sort(key=lambda item: item[0])
        write_safetensors(os.path.join(directory, "adapter_model.safetensors"), tensors)
        config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": 2 * r, "lora_dropout": 0.0,
                  "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                  "bias": "none", "fan_in_fan_out": False, "use_rslora": False, "rank_pattern": {}, "alpha_pattern": {},
                  "base_model_name_or_path": "llama-7b-shaped"}
        with open(os.path.join(directory, "adapter_config.json"), "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
        print(directory)


if __name__ == "__main__":
    main()
